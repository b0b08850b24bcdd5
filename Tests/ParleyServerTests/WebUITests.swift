import Foundation
import ParleyCore
import ParleyMockLLM
import ParleyTestSupport
import ParleyStore
import Testing

/// The web UI in a real browser: headless Chromium driven by Selenium (`Tests/browser/ui_check.py`) against a
/// live Parley in front of the mock model, plus a second Parley with a one-request-per-minute limit for the
/// rate-limit message. Screenshots at 1280, 390 and 360 px land in `.build/artifacts/ui/`.
@Suite struct WebUITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
    static let script = root.appendingPathComponent("Tests/browser/ui_check.py").path
    static let artifacts = root.appendingPathComponent(".build/artifacts/ui").path
    static var required: Bool { ProcessInfo.processInfo.environment["PARLEY_REQUIRE_SERVICES"] == "1" }

    /// Why the browser tests cannot run here, or nil when they can.
    static func missingTools() async -> String? {
        for binary in ["/usr/bin/chromium", "/usr/bin/chromedriver"] where !FileManager.default.fileExists(atPath: binary) {
            return "\(binary) is missing: apt-get install chromium chromium-driver"
        }
        if !(await Shell.pythonHas("selenium")) { return "the selenium Python package is missing: pip install selenium" }
        return nil
    }

    @Test func theUIWorksInARealBrowser() async throws {
        if let missing = await Self.missingTools() {
            if Self.required { Issue.record("\(missing)") }
            return
        }
        // A fresh server: the browser creates the administrator, who receives the conversation stored before.
        try await TestParley.with(signedIn: false, configure: {
            $0.accounts.signUp = .approval
            $0.visionModels = ModelNamePatterns(["mock-1"])
        }) { parley in
            let longID = try await Self.seedLongConversation(databasePath: parley.directory + "/parley.db")
            // Reached as `localhost`: browsers keep cookies per host name, not per port, so the two servers' sessions
            // stay apart.
            try await TestParley.with(configure: { $0.rateLimits.requestsPerMinute = 1 }) { limited in
                // The browser runs at the lowest CPU priority so it does not starve the timing-sensitive suites that
                // run beside it on a small machine.
                let outcome = try await Shell.run(["nice", "-n", "19", "python3", Self.script, parley.baseURL, Self.artifacts,
                                                   longID.lowercased, "--limited", "http://localhost:\(limited.port)"])
                print("browser checks:\n" + outcome.output) // one line per check, with its time, for the CI log
                #expect(outcome.status == 0, "browser checks failed:\n\(outcome.output)")
                #expect(outcome.output.contains("all passed"), "\(outcome.output)")
            }
        }
    }

    /// A finished 1,000-message conversation, written straight to the server's SQLite file; message 301 alone
    /// mentions an okapi.
    static func seedLongConversation(databasePath: String) async throws -> UUID {
        let store = try SQLiteConversationStore(path: databasePath)
        let id = UUID.v7()
        let start = Date().addingTimeInterval(-3_600)
        var messages: [Message] = []
        for index in 1...1_000 {
            let time = start.addingTimeInterval(Double(index))
            let isUser = index % 2 == 1
            messages.append(Message(id: .v7(now: time), conversationID: id, index: index,
                                    parentID: isUser ? nil : messages.last?.id, role: isUser ? .user : .assistant,
                                    content: isUser ? "Question \(index)\(index == 301 ? " about the okapi" : "")"
                                        : "Answer \(index) with **some** text.",
                                    model: isUser ? nil : "mock-1", status: .complete, createdAt: time, updatedAt: time))
        }
        let conversation = Conversation(id: id, ownerID: .local, title: "A thousand messages", model: nil,
                                        systemPrompt: nil, messageCount: messages.count, createdAt: start,
                                        updatedAt: messages[messages.count - 1].updatedAt)
        try await store.importConversation(ConversationImport(conversation: conversation, messages: messages))
        return id
    }
}
