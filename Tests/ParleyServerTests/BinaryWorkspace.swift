import Foundation
import ParleyMockLLM
import ParleyTestSupport
import Testing

/// For tests that run the real `parley` binary: the binary (built by `swift build`) and a temporary folder for
/// its databases and logs, removed by ``remove()``.
struct BinaryWorkspace {
    let binary: String
    let directory: String

    init(_ name: String) throws {
        binary = CrashRecoveryTests.binary
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the server first (swift build)")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

extension BinaryWorkspace {
    /// A mock model server on a free port, answering `tokens` tokens `tokenDelayMs` apart.
    static func mock(tokens: Int, tokenDelayMs: Int) async throws -> BackgroundService {
        var options = MockLLMServer.Options()
        options.port = 0
        options.defaults = MockScript(tokens: tokens, tokenDelayMs: tokenDelayMs)
        return try await MockLLMServer(options: options).start(logger: TestParley.quietLogger)
    }

    /// `parley serve` from this workspace's binary on a SQLite file in it, proxying to `upstream`, on a free port,
    /// with quick password hashing and no titles, then `arguments`; its output goes to `serve.log` here.
    func serve(upstream: BackgroundService, _ arguments: [String], environment: [String: String]) async throws -> ChildProcess {
        try await ChildProcess.start(
            binary, ["serve", "--port", "0", "--database", "sqlite://\(directory)/p.db",
                     "--openai-base-url", "http://127.0.0.1:\(upstream.port)/v1", "--title-model", "off",
                     "--password-hash-cost", "14"] + arguments,
            log: directory + "/serve.log", environment: environment)
    }
}
