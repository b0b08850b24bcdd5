import Foundation

/// A throwaway PostgreSQL server started from the machine's binaries on a free loopback port, with `fsync` off.
/// As root it runs as the `postgres` user, as PostgreSQL requires.
public final class PostgresTestServer: Sendable {
    public let port: Int
    public let directory: String
    let binaries: String

    /// Where `pg_ctl` lives, if PostgreSQL is installed.
    public static var binaryDirectory: String? {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root))?.sorted(by: >) ?? []
        return versions.map { "\(root)/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: "\($0)/pg_ctl") }
    }

    /// True when the suite must run (CI), so missing binaries are a failure rather than a skip.
    public static var required: Bool { ProcessInfo.processInfo.environment["PARLEY_REQUIRE_SERVICES"] == "1" }

    static var isRoot: Bool { getuid() == 0 }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Starts a server (initdb, then pg_ctl start) on a thread of its own, so the wait blocks no task.
    public static func start() async throws -> PostgresTestServer {
        try await offThread { try PostgresTestServer() }
    }

    private init() throws {
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

    /// Stops the server and deletes its data.
    public func stop() {
        try? Self.run(binaries + "/pg_ctl", ["-D", directory + "/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Stops the server, keeping its data: every connection is cut, as in an outage. (`-m fast`: an immediate
    /// stop would lose the last commits, since the test server runs with `synchronous_commit=off`.)
    public func pause() async throws {
        try await offThread { try Self.run(self.binaries + "/pg_ctl", ["-D", self.directory + "/data", "-m", "fast", "-w", "stop"]) }
    }

    /// Starts the server again on the same port after ``pause()``.
    public func resume() async throws {
        let (binaries, directory, port) = (self.binaries, self.directory, self.port)
        try await offThread {
            try Self.run(binaries + "/pg_ctl", [
                "-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "30",
                "-o", "-p \(port) -k \(directory) -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                "start",
            ])
        }
    }

    /// Creates an empty database.
    public func createDatabase(_ name: String) async throws {
        let (binaries, port) = (self.binaries, self.port)
        try await offThread { try Self.run(binaries + "/createdb", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "parley", name]) }
    }

    /// The URL Parley takes for one of this server's databases.
    public func url(database: String) -> String {
        "postgres://parley@127.0.0.1:\(port)/\(database)"
    }

    /// Runs a command (as `postgres` when root) through the shell and throws with its output if it fails.
    /// ``Spawn`` waits for exactly this child; output goes to a file, since the server pg_ctl starts would hold
    /// a pipe open.
    static func run(_ executable: String, _ arguments: [String]) throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("parley-pg-cmd-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let quoted = ([executable] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let prefix = isRoot && !executable.hasSuffix("chown") ? "runuser -u postgres -- " : ""
        let status = Spawn.shell(prefix + quoted.joined(separator: " ") + " > '\(log)' 2>&1 < /dev/null")
        guard status == 0 else {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw Failure(description: "\(executable) \(arguments.joined(separator: " ")) failed (\(status)): \(output)")
        }
    }
}

/// Runs blocking work (child processes waited for with ``Spawn``) on a new thread and awaits its result, so
/// that the few threads running Swift tasks are never blocked by it.
public func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try work() })
        }
    }
}
