import ArgumentParser
import Foundation
import ParleyMockLLM
import ParleyTestSupport

@main
struct ParleyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley-bench",
        abstract: "Benchmarks of Parley, each side by side with a baseline measured in the same run.",
        subcommands: [Turns.self, History.self, Gateway.self, Limits.self, AccountsBench.self, RetrievalBench.self, EmbeddingsBench.self],
        defaultSubcommand: Turns.self)
}

/// The database a benchmark runs Parley on.
enum Backend: String, ExpressibleByArgument, CaseIterable {
    case sqlite, postgres

    /// A database for one benchmark: a SQLite file in `work`, or a database on a throwaway PostgreSQL server.
    func open(work: String, name: String) async throws -> BenchDatabase {
        switch self {
        case .sqlite:
            return BenchDatabase(url: "sqlite://\(work)/\(name).db", server: nil)
        case .postgres:
            let server = try await PostgresTestServer.start()
            try await server.createDatabase(name)
            return BenchDatabase(url: server.url(database: name), server: server)
        }
    }
}

struct BenchDatabase {
    var url: String
    var server: PostgresTestServer?
    func close() { server?.stop() }
}
