import ArgumentParser
import Foundation
import Logging
import ParleyServer

/// `parley migrate`: brings the database schema up to date and exits. `parley serve` does the same at start-up;
/// this is for deployments that migrate as a separate step. Replicas starting together are safe either way
/// (PostgreSQL migrations run under an advisory lock).
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations and exit.")

    @Option(name: .customLong("database"), help: .init(Setting.helpText("database_url"))) var database: String?
    @Option(help: "A JSON config file. [env: PARLEY_CONFIG]") var config: String?

    func run() async throws {
        var flags: [String: String] = [:]
        if let database { flags["database_url"] = database }
        if let config { flags["config"] = config }
        let settings: ParleyConfig
        do {
            settings = try ConfigLoader(flags: flags).load()
        } catch let error as ConfigError {
            throw ValidationError(error.description)
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = settings.logLevel
            return handler
        }
        try await ParleyServer.migrate(config: settings, logger: Logger(label: "parley"))
        print("The database is up to date.")
    }
}
