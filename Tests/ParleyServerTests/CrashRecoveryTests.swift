import Foundation
import ParleyMockLLM
import ParleyTestSupport
import Testing

/// A real `parley serve` process killed with SIGKILL mid-answer, then started again on the same database: the
/// answer's generation lease lapses and the new process marks it `interrupted`.
@Suite struct CrashRecoveryTests {
    /// The `parley` executable next to the test bundle (`swift build` puts both in `.build/debug`).
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["PARLEY_BINARY"] { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/parley").path
    }

    static func serve(database: String, upstream: String, log: String) async throws -> ChildProcess {
        try await ChildProcess.start(binary, ["serve", "--port", "0", "--database", database, "--openai-base-url",
                                              upstream, "--flush-interval-ms", "50", "--generation-lease", "1"],
                                     log: log, environment: ["PATH": "/usr/bin:/bin"])
    }

    @Test func killedMidAnswerComesBackInterruptedWithTheUserMessageIntact() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary),
                     "build the server first (swift build); looked for \(Self.binary)")
        var options = MockLLMServer.Options()
        options.port = 0
        options.defaults = MockScript(tokens: 2000, tokenDelayMs: 10)
        let mock = try await MockLLMServer(options: options).start(logger: TestParley.quietLogger)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-crash-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = "sqlite://\(directory)/parley.db"
        let upstream = "http://127.0.0.1:\(mock.port)/v1"

        let first = try await Self.serve(database: database, upstream: upstream, log: directory + "/first.log")
        let client = TestParley.Client(baseURL: "http://127.0.0.1:\(first.port)")
        try await client.setUpAdmin()
        let session = try await client.signIn(email: TestUsers.adminEmail)
        let conversation = try await client.createConversation()
        let reader = try await client.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                             body: #"{"content":"Please write a long story"}"#)
        let head = try await reader.read { $0.name == "delta" }
        let assistant = try #require(head[1].data["id"] as? String)
        let user = try #require(head[0].data["id"] as? String)
        _ = try await client.waitForMessage(assistant) { !(($0["content"] as? String) ?? "").isEmpty }
        first.stop(signal: SIGKILL)
        reader.cancel()

        let second = try await Self.serve(database: database, upstream: upstream, log: directory + "/second.log")
        let restarted = TestParley.Client(baseURL: "http://127.0.0.1:\(second.port)")
        restarted.credentials.adopt(client.credentials)
        // Sessions live in the database: the browser's cookie still works after the restart.
        #expect(try await restarted.request(.GET, "/api/v1/account", headers: session.cookie).status == 200)
        // Reaped once the lease (1 s) has lapsed, at the next lease check (every third of it).
        _ = try await restarted.waitForMessage(assistant, timeout: .seconds(5)) { ($0["status"] as? String) != "streaming" }
        let answer = try await restarted.request(.GET, "/api/v1/messages/\(assistant)").decode(MessageJSON.self)
        #expect(answer.status == "interrupted")
        #expect(!answer.content.isEmpty, "the text flushed before the crash survives")
        #expect(MockScript.replyTokens(count: 2000).joined().hasPrefix(answer.content))
        let question = try await restarted.request(.GET, "/api/v1/messages/\(user)").decode(MessageJSON.self)
        #expect(question.content == "Please write a long story" && question.status == "complete")
        // The conversation goes on normally after the restart.
        let next = try await restarted.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                              body: #"{"content":"again mock:tokens=3"}"#).rest()
        #expect(next.last?.status == "complete")

        second.stop(signal: SIGKILL)
        try await client.shutdown()
        try await restarted.shutdown()
        try await mock.stop()
    }
}
