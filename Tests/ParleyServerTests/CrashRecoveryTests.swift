import Foundation
import ParleyMock
import Testing

/// A real `parley serve` process killed with SIGKILL mid-answer, then started again on the same database.
@Suite struct CrashRecoveryTests {
    /// The `parley` executable next to the test bundle (`swift build` puts both in `.build/debug`).
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["PARLEY_BINARY"] { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/parley").path
    }

    final class ServeProcess: Sendable {
        let process: Process
        let port: Int

        init(database: String, upstream: String, log: String) async throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CrashRecoveryTests.binary)
            process.arguments = ["serve", "--port", "0", "--database", database, "--openai-base-url", upstream,
                                 "--flush-interval-ms", "50"]
            process.environment = ["PATH": "/usr/bin:/bin"]
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.standardError = handle
            process.standardOutput = handle
            try process.run()
            self.process = process
            let deadline = ContinuousClock.now + .seconds(30)
            while true {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                if let range = text.range(of: "listening on http://127.0.0.1:") {
                    let digits = text[range.upperBound...].prefix { $0.isNumber }
                    if let port = Int(digits) {
                        self.port = port
                        return
                    }
                }
                guard process.isRunning, ContinuousClock.now < deadline else {
                    process.terminate()
                    throw StartError(log: text)
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }

        func kill() {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        struct StartError: Error, CustomStringConvertible {
            var log: String
            var description: String { "parley serve did not start:\n\(log)" }
        }
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

        let first = try await ServeProcess(database: database, upstream: upstream, log: directory + "/first.log")
        let client = TestParley.Client(baseURL: "http://127.0.0.1:\(first.port)")
        let conversation = try await client.createConversation()
        let reader = try await client.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                             body: #"{"content":"Please write a long story"}"#)
        let head = try await reader.read { $0.name == "delta" }
        let assistant = try #require(head[1].data["id"] as? String)
        let user = try #require(head[0].data["id"] as? String)
        _ = try await client.waitForMessage(assistant) { !(($0["content"] as? String) ?? "").isEmpty }
        first.kill()
        reader.cancel()

        let second = try await ServeProcess(database: database, upstream: upstream, log: directory + "/second.log")
        let restarted = TestParley.Client(baseURL: "http://127.0.0.1:\(second.port)")
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

        second.kill()
        try await client.shutdown()
        try await restarted.shutdown()
        try await mock.stop()
    }
}
