import Foundation

/// A throwaway `redis-server` on a free loopback port, without persistence, for tests and bench.
/// It can be killed and started again on the same port to stage an outage.
public final class RedisTestServer: Sendable {
    public let port: Int
    public let directory: String
    let password: String?

    public static var binary: String? {
        ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// `redis://` URL of the server (with its password, when it has one).
    public var url: String {
        if let password { return "redis://:\(password)@127.0.0.1:\(port)" }
        return "redis://127.0.0.1:\(port)"
    }

    /// Starts a server; with `password`, clients must AUTH.
    public static func start(password: String? = nil) async throws -> RedisTestServer {
        guard binary != nil else {
            throw Failure(description: "redis-server not found (apt-get install redis-server)")
        }
        var lastError: (any Error)?
        for _ in 0..<5 {
            let server = RedisTestServer(port: Int.random(in: 20_000...60_000), password: password)
            do {
                try await server.resume()
                return server
            } catch {
                lastError = error
                server.stop()
            }
        }
        throw lastError ?? Failure(description: "redis-server did not start")
    }

    private init(port: Int, password: String?) {
        self.port = port
        self.password = password
        directory = "/tmp/parley-redis-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// Starts (or starts again) the server on its port and waits until it answers.
    public func resume() async throws {
        guard let binary = Self.binary else { throw Failure(description: "redis-server not found") }
        var arguments = [binary, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                         "--daemonize", "yes", "--enable-debug-command", "yes", "--dir", directory, "--pidfile", directory + "/redis.pid",
                         "--logfile", directory + "/redis.log"]
        if let password { arguments += ["--requirepass", password] }
        let outcome = try await Shell.run(arguments)
        guard outcome.status == 0 else { throw Failure(description: "redis-server failed: \(outcome.output)") }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if (try? await Shell.run(["redis-cli", "-p", String(port)] + (password.map { ["-a", $0, "--no-auth-warning"] } ?? [])
                + ["PING"]))?.output.contains("PONG") == true {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure(description: "redis-server on port \(port) did not answer: \((try? String(contentsOfFile: directory + "/redis.log", encoding: .utf8)) ?? "")")
    }

    /// Kills the server at once (SIGKILL), as in a crash; every connection drops.
    public func kill() async {
        guard let pid = try? String(contentsOfFile: directory + "/redis.pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines), let number = Int32(pid) else { return }
        Foundation.kill(number, SIGKILL)
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline, Foundation.kill(number, 0) == 0 {
            try? await Task.sleep(for: .milliseconds(20))
        }
        try? FileManager.default.removeItem(atPath: directory + "/redis.pid")
    }

    /// Stops the server and deletes its directory.
    public func stop() {
        if let pid = try? String(contentsOfFile: directory + "/redis.pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines), let number = Int32(pid) {
            Foundation.kill(number, SIGKILL)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

extension RedisTestServer {
    /// True when the suite must run (CI), so a missing `redis-server` is a failure rather than a skip.
    public static var required: Bool { PostgresTestServer.required }
    /// Whether Redis suites run: the binary is here, or CI requires them (and then fails loudly without it).
    public static var enabled: Bool { binary != nil || required }
}
