import ArgumentParser
import Foundation
import ParleyClient

/// `parley models`: the models a Parley server offers.
struct Models: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "List the models the server offers (the default marked).")

    @Flag(help: "Print JSON: {\"data\": [{\"id\", \"upstream\"}], \"default\"}.") var json = false
    @OptionGroup var connection: ClientOptions

    private struct Listing: Encodable {
        var data: [RemoteModel]
        var `default`: String?
    }

    func run() async throws {
        try await withRemote(connection) { remote in
            let (models, defaultModel) = try await remote.models()
            if json { return emit(try jsonText(Listing(data: models, default: defaultModel))) }
            let width = models.map(\.id.count).max() ?? 0
            for model in models {
                let name = model.id.padding(toLength: width, withPad: " ", startingAt: 0)
                emit("\(name)  \(model.upstream ?? "")\(model.id == defaultModel ? "  (default)" : "")\n")
            }
        }
    }
}
