import Foundation
import ParleyTestSupport
import Testing

/// `parley chat` driven in a real terminal (tmux): typing, pasting, the history, Ctrl-C during an answer,
/// Ctrl-D, the `/commands`, and the Markdown it draws — against a real `parley serve`.
@Suite(.serialized) struct ChatTerminalTests {
    static func withChat(_ arguments: [String] = [], width: Int = 100,
                         _ body: (TmuxTerminal, TerminalClientTests.Setup) async throws -> Void) async throws {
        try await TerminalClientTests.withServer { setup in
            let terminal = try await TmuxTerminal([setup.workspace.binary, "chat"] + arguments,
                                                  environment: setup.environment.merging(["EDITOR": "/bin/false"]) { $1 },
                                                  directory: setup.workspace.directory, width: width)
            do {
                try await terminal.waitFor("/help for commands")
                try await body(terminal, setup)
            } catch {
                await terminal.stop()
                throw error
            }
            await terminal.stop()
        }
    }

    /// The conversations on the server, newest first: their messages (role, content, status).
    static func stored(_ setup: TerminalClientTests.Setup) async throws -> [[(role: String, content: String, status: String)]] {
        let list = try await setup.client.request(.GET, "/api/v1/conversations?limit=50")
        var result: [[(role: String, content: String, status: String)]] = []
        for conversation in list.json["data"] as? [[String: Any]] ?? [] {
            let id = conversation["id"] as? String ?? ""
            let page = try await setup.client.request(.GET, "/api/v1/conversations/\(id)/messages")
            result.append((page.json["data"] as? [[String: Any]] ?? []).map {
                ($0["role"] as? String ?? "", $0["content"] as? String ?? "", $0["status"] as? String ?? "")
            })
        }
        return result
    }

    @Test func typingPastingHistoryAndLeaving() async throws {
        try await Self.withChat { terminal, setup in
            try await terminal.type("mock:echo=1 mock:tokens=2 hello there")
            try await terminal.press("Enter")
            try await terminal.waitFor("\nhello there")
            // A paste of several lines is one message, sent only at Enter.
            try await terminal.paste("mock:echo=1 mock:tokens=6 first line\nsecond line")
            try await terminal.press("M-Enter")
            try await terminal.type("third line")
            try await terminal.press("Enter")
            try await terminal.waitFor("\nfirst line")
            let messages = try #require(try await Self.stored(setup).first)
            #expect(messages.map(\.content) == ["mock:echo=1 mock:tokens=2 hello there", "hello there",
                                                 "mock:echo=1 mock:tokens=6 first line\nsecond line\nthird line",
                                                 "first line\nsecond line\nthird line"])
            // ↑ twice brings back the first message; Enter sends it again.
            try await terminal.press("Up")
            try await terminal.press("Up")
            try await terminal.waitFor("› mock:echo=1 mock:tokens=2 hello there")
            try await terminal.press("C-u")
            // Ctrl-R finds it by a word.
            try await terminal.press("C-r")
            try await terminal.type("hello")
            try await terminal.waitFor("search) hello: mock:echo=1 mock:tokens=2 hello there")
            try await terminal.press("Enter")
            _ = try await terminal.waitFor("the answer again") { $0.components(separatedBy: "\nhello there").count == 3 }
            // Ctrl-D at an empty prompt leaves, with status 0.
            try await terminal.press("C-d")
            let status = try await terminal.waitForExit()
            let screen = try await terminal.screen()
            #expect(status == 0, "\(screen)")
            let history = try String(contentsOfFile: setup.workspace.directory + "/.local/state/parley/history", encoding: .utf8)
            #expect(history.contains("second line\\nthird line"), "multi-line messages are one history entry")
        }
    }
}
