import Foundation
import Logging
import ParleyStore
import PostgresNIO

/// A throwaway PostgreSQL server started from the machine's binaries on a free loopback port, with `fsync` off.
/// As root it runs as the `postgres` user, as PostgreSQL requires.
final class PostgresTestServer: Sendable {
    let port: Int
    let directory: String
    let binaries: String

    /// Where `pg_ctl` lives, if PostgreSQL is installed.
    static var binaryDirectory: String? {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root))?.sorted(by: >) ?? []
        return versions.map { "\(root)/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: "\($0)/pg_ctl") }
    }

    /// True when the suite must run (CI), so missing binaries are a failure rather than a skip.
    static var required: Bool { ProcessInfo.processInfo.environment["PARLEY_REQUIRE_SERVICES"] == "1" }

    static var isRoot: Bool { getuid() == 0 }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init() throws {
        guard let binaries = Self.binaryDirectory else {
            throw Failure(description: "PostgreSQL binaries not found under /usr/lib/postgresql (apt-get install postgresql)")
        }
        self.binaries = binaries
        directory = "/tmp/parley-pg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if Self.isRoot {
            try Self.run("/bin/chown", ["postgres:postgres", directory])
        }
        try Self.run(binaries + "/initdb", ["-D", directory + "/data", "-A", "trust", "-U", "parley", "-E", "UTF8",
                                            "--no-sync", "--no-instructions"])
        var lastError: (any Error)?
        for _ in 0..<5 {
            let candidate = Int.random(in: 20_000...60_000)
            do {
                try Self.run(binaries + "/pg_ctl", [
                    "-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "30",
                    "-o", "-p \(candidate) -k \(directory) -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                    "start",
                ])
                port = candidate
                return
            } catch {
                lastError = error
            }
        }
        throw lastError ?? Failure(description: "PostgreSQL did not start")
    }

    func stop() {
        try? Self.run(binaries + "/pg_ctl", ["-D", directory + "/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    func configuration(database: String) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(host: "127.0.0.1", port: port, username: "parley",
                                                         password: nil, database: database, tls: .disable)
        configuration.options.maximumConnections = 10
        return configuration
    }

    /// Creates an empty database and returns a migrated store on it, with its pool running in `task`.
    func freshStore(name: String) async throws -> (PostgresConversationStore, Task<Void, Never>) {
        var logger = Logger(label: "parley.test.pg")
        logger.logLevel = .error
        let admin = PostgresClient(configuration: configuration(database: "postgres"), backgroundLogger: logger)
        let adminTask = Task { await admin.run() }
        try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        adminTask.cancel()
        let store = PostgresConversationStore(configuration: configuration(database: name), logger: logger)
        let task = Task { await store.run() }
        try await store.migrate()
        return (store, task)
    }

    /// Runs a command (as `postgres` when root) through the shell and throws with its output if it fails.
    /// `system` waits for exactly this child; output goes to a file, since the server pg_ctl starts would hold
    /// a pipe open.
    static func run(_ executable: String, _ arguments: [String]) throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("parley-pg-cmd-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let quoted = ([executable] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let prefix = isRoot && !executable.hasSuffix("chown") ? "runuser -u postgres -- " : ""
        let status = system(prefix + quoted.joined(separator: " ") + " > '\(log)' 2>&1 < /dev/null")
        guard status == 0 else {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw Failure(description: "\(executable) \(arguments.joined(separator: " ")) failed (\(status)): \(output)")
        }
    }
}
