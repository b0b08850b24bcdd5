import Foundation
import ParleyTestSupport
import Testing

/// `parley chat` driven in a real terminal (tmux): typing, pasting, the history, Ctrl-C during an answer,
/// Ctrl-D, the `/commands`, and the Markdown it draws — against a real `parley serve`.
@Suite(.serialized) struct ChatTerminalTests {
    static func withChat(_ arguments: [String] = [], environment: [String: String] = [:], width: Int = 100,
                         _ body: (TmuxTerminal, TerminalClientTests.Setup) async throws -> Void) async throws {
        try await TerminalClientTests.withServer { setup in
            let terminal = try await TmuxTerminal([setup.workspace.binary, "chat"] + arguments,
                                                  environment: setup.environment.merging(["EDITOR": "/bin/false"].merging(environment) { $1 }) { $1 },
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
            // A message that starts with """ goes on, Enter after Enter, until a line of """.
            for line in ["\"\"\"mock:echo=1 mock:tokens=5 quoted", "block of", "three lines", "\"\"\""] {
                try await terminal.type(line)
                try await terminal.press("Enter")
            }
            try await terminal.waitFor("\nquoted\nblock of\nthree lines")
            let quoted = try #require(try await Self.stored(setup).first?.suffix(2).map(\.content))
            #expect(quoted == ["mock:echo=1 mock:tokens=5 quoted\nblock of\nthree lines", "quoted\nblock of\nthree lines"])
            // Ctrl-D at an empty prompt leaves, with status 0.
            try await terminal.press("C-d")
            let status = try await terminal.waitForExit()
            let screen = try await terminal.screen()
            #expect(status == 0, "\(screen)")
            let history = try String(contentsOfFile: setup.workspace.directory + "/.local/state/parley/history", encoding: .utf8)
            #expect(history.contains("second line\\nthird line"), "multi-line messages are one history entry")
        }
    }

    @Test func ctrlCStopsTheAnswerAndCtrlCAtAnEmptyPromptLeaves() async throws {
        try await Self.withChat { terminal, setup in
            try await terminal.type("mock:tokens=400 mock:delay_ms=15 a very long story")
            try await terminal.press("Enter")
            // Wait for a few words of the answer, below the prompt line.
            try await terminal.waitFor("the answer to start") { ($0.components(separatedBy: "a very long story\n").last ?? "").count > 40 }
            try await terminal.press("C-c")
            try await terminal.waitFor("(stopped; the server keeps what came)")
            let messages = try #require(try await Self.stored(setup).first)
            #expect(messages.count == 2 && messages[1].status == "cancelled" && !messages[1].content.isEmpty, "\(messages)")
            #expect(messages[1].content.split(separator: " ").count < 400, "stopped well before the end")
            // The chat goes on: Ctrl-C with text at the prompt clears it; at an empty prompt it leaves.
            try await terminal.type("not sent")
            try await terminal.waitFor("› not sent")
            try await terminal.press("C-c")
            try await terminal.waitFor("the prompt cleared") { !$0.contains("› not sent") }
            try await terminal.press("C-c")
            let status = try await terminal.waitForExit()
            let screen = try await terminal.screen()
            #expect(status == 0, "\(screen)")
            #expect(try await Self.stored(setup).first?.count == 2, "nothing more was sent")
        }
    }

    @Test func listOpenAndSearchReachConversationsStartedInTheWebUI() async throws {
        try await Self.withChat { terminal, setup in
            // Two conversations started through the web UI's API.
            let first = try await setup.client.createConversation(#"{"title": "Garden plans"}"#)
            _ = try await setup.client.chat(first, "mock:echo=1 mock:tokens=4 plant purple tomatoes early")
            let second = try await setup.client.createConversation(#"{"title": "Trip notes"}"#)
            _ = try await setup.client.chat(second, "mock:echo=1 mock:tokens=3 pack warm socks")

            try await terminal.type("/list")
            try await terminal.press("Enter")
            try await terminal.waitFor("2  Garden plans")
            try await terminal.waitFor("1  Trip notes")
            try await terminal.type("/open 2")
            try await terminal.press("Enter")
            try await terminal.waitFor("── Garden plans")
            try await terminal.waitFor("\nplant purple tomatoes early")
            // A message now continues that conversation, which the web UI then shows with three turns' messages.
            try await terminal.type("mock:echo=1 mock:tokens=2 and basil")
            try await terminal.press("Enter")
            try await terminal.waitFor("\nand basil")
            let page = try await setup.client.request(.GET, "/api/v1/conversations/\(first)/messages")
            let contents = (page.json["data"] as? [[String: Any]] ?? []).compactMap { $0["content"] as? String }
            #expect(contents == ["mock:echo=1 mock:tokens=4 plant purple tomatoes early", "plant purple tomatoes early",
                                 "mock:echo=1 mock:tokens=2 and basil", "and basil"])

            // /search finds the other one by a word of its messages; /open N from the results continues it.
            try await terminal.type("/search socks")
            try await terminal.press("Enter")
            try await terminal.waitFor("1  Trip notes")
            try await terminal.type("/open 1")
            try await terminal.press("Enter")
            try await terminal.waitFor("── Trip notes")
            try await terminal.type("/search nothing-like-this")
            try await terminal.press("Enter")
            try await terminal.waitFor("Nothing found for \"nothing-like-this\".")
            // Bad input to a command is a line on the screen; the chat goes on.
            try await terminal.type("/open 7")
            try await terminal.press("Enter")
            try await terminal.waitFor("parley: /open takes a number from 1 to 1")
            try await terminal.type("/open \(UUID().uuidString)")
            try await terminal.press("Enter")
            try await terminal.waitFor("not found (404)")
            try await terminal.type("/frobnicate")
            try await terminal.press("Enter")
            try await terminal.waitFor("unknown command /frobnicate")
            try await terminal.type("/quit")
            try await terminal.press("Enter")
            #expect(try await terminal.waitForExit() == 0)
        }
    }

    @Test func modelSystemRetryEditCopyAndExport() async throws {
        try await Self.withChat { terminal, setup in
            try await terminal.type("/model mock-2")
            try await terminal.press("Enter")
            try await terminal.waitFor("Model: mock-2")
            try await terminal.type("/model no-such-model")
            try await terminal.press("Enter")
            try await terminal.waitFor("the server has no model 'no-such-model'")
            try await terminal.type("/system Answer like a pirate.")
            try await terminal.press("Enter")
            try await terminal.waitFor("System prompt set.")
            try await terminal.type("mock:echo=1 mock:tokens=7 here is code: ```sh echo ahoy ``` done")
            try await terminal.press("Enter")
            try await terminal.waitFor("\nhere is code:")
            let list = try await setup.client.request(.GET, "/api/v1/conversations?limit=5")
            let id = try #require((list.json["data"] as? [[String: Any]])?.first?["id"] as? String)
            let conversation = try await setup.client.request(.GET, "/api/v1/conversations/\(id)").json
            #expect(conversation["model"] as? String == "mock-2" && conversation["system_prompt"] as? String == "Answer like a pirate.",
                    "\(conversation)")

            // /retry answers the last message again: the conversation still has two messages, the answer a new id.
            let before = try await Self.messageIDs(setup, id)
            try await terminal.type("/retry")
            try await terminal.press("Enter")
            try await terminal.waitFor("the answer again") { $0.components(separatedBy: "\nhere is code:").count == 3 }
            let afterRetry = try await Self.messageIDs(setup, id)
            #expect(afterRetry.count == 2 && afterRetry[1] != before[1], "\(before) → \(afterRetry)")

            // /edit puts the last message at the prompt; what is sent replaces it and its answer.
            try await terminal.type("/edit")
            try await terminal.press("Enter")
            try await terminal.waitFor("› mock:echo=1 mock:tokens=7 here is code")
            try await terminal.press("C-u")
            try await terminal.type("mock:echo=1 mock:tokens=2 second thoughts")
            try await terminal.press("Enter")
            try await terminal.waitFor("\nsecond thoughts")
            let edited = try #require(try await Self.stored(setup).first)
            #expect(edited.map(\.content) == ["mock:echo=1 mock:tokens=2 second thoughts", "second thoughts"], "\(edited)")

            // /copy puts the last answer on the terminal's clipboard (OSC 52, which tmux keeps as a buffer).
            try await terminal.type("/copy")
            try await terminal.press("Enter")
            try await terminal.waitFor("Copied 15 characters")
            #expect(try await terminal.clipboard() == "second thoughts")
            try await terminal.type("/copy code")
            try await terminal.press("Enter")
            try await terminal.waitFor("parley: the last answer has no code block")

            // /export writes the whole conversation.
            let markdown = setup.workspace.directory + "/chat.md"
            let json = setup.workspace.directory + "/chat.json"
            try await terminal.type("/export md \(markdown)")
            try await terminal.press("Enter")
            try await terminal.waitFor("Saved to \(markdown)")
            try await terminal.type("/export json \(json)")
            try await terminal.press("Enter")
            try await terminal.waitFor("Saved to \(json)")
            let exported = try String(contentsOfFile: markdown, encoding: .utf8)
            #expect(exported.contains("second thoughts") && exported.contains("Answer like a pirate."), "\(exported)")
            let transcript = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
            #expect((transcript?["messages"] as? [[String: Any]])?.count == 2)
            try await terminal.type("/export pdf somewhere")
            try await terminal.press("Enter")
            try await terminal.waitFor("parley: /export md|json FILE")
            try await terminal.press("C-d")
            #expect(try await terminal.waitForExit() == 0)
        }
    }

    static func messageIDs(_ setup: TerminalClientTests.Setup, _ conversation: String) async throws -> [String] {
        let page = try await setup.client.request(.GET, "/api/v1/conversations/\(conversation)/messages")
        return (page.json["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    /// The Markdown of an answer drawn for the terminal, and wrapped to a window resized meanwhile.
    @Test func answersAreFormattedAndFollowTheWindowsWidth() async throws {
        try await Self.withChat { terminal, setup in
            let answer = "# Heading\n\nSome **bold** words.\n\n- one\n- two\n\n```\nlet x = 1\n```"
            let words = answer.split(whereSeparator: \.isWhitespace).count
            try await terminal.paste("mock:echo=1 mock:tokens=\(words) " + answer)
            try await terminal.press("Enter")
            let shown = try await terminal.waitFor("the code block", escapes: true) { $0.components(separatedBy: "let x = 1").count == 3 }
            // The answer: below the message as typed (whose last lines are its code block).
            let screen = shown.components(separatedBy: "let x = 1").dropFirst().joined(separator: "let x = 1")
                .split(separator: "\n", maxSplits: 1).last.map(String.init) ?? ""
            #expect(screen.contains("\u{1B}[1mbold"), "bold: \(screen)")
            #expect(screen.contains("48;5;236m"), "the code block has a background: \(screen)")
            #expect(!screen.contains("**bold**") && !screen.contains("```"), "the Markdown marks are not shown: \(screen)")
            #expect(screen.contains("• one") || screen.contains("- one"))

            // After the window narrows, answers wrap at its new width, between words.
            try await terminal.tmux(["resize-window", "-t", "chat", "-x", "40"])
            let long = (1...30).map { "word\($0)" }.joined(separator: " ")
            try await terminal.type("mock:echo=1 mock:tokens=30 " + long)
            try await terminal.press("Enter")
            try await terminal.waitFor("the long answer") { $0.components(separatedBy: "word30").count == 3 }
            let joined = try await terminal.tmux(["capture-pane", "-p", "-J", "-t", "chat"])
            let answerLines = joined.split(separator: "\n").drop { !$0.hasPrefix("word1 ") }.prefix { !$0.hasPrefix("›") }
            #expect(answerLines.count >= 5 && answerLines.allSatisfy { $0.count <= 40 }, "wrapped by the chat, not the terminal:\n\(joined)")
            #expect(answerLines.joined(separator: " ").split(separator: " ") == long.split(separator: " ").map { $0[...] },
                    "no word split, none lost")
        }
    }

    /// With NO_COLOR (or --raw) the answer is the text as it came, with no escape sequences.
    @Test func noColorPrintsTheMarkdownAsItCame() async throws {
        try await Self.withChat(environment: ["NO_COLOR": "1"]) { terminal, _ in
            try await terminal.type("mock:echo=1 mock:tokens=3 some **bold** words")
            try await terminal.press("Enter")
            let screen = try await terminal.waitFor("the answer", escapes: true) { $0.contains("\nsome **bold** words") }
            #expect(!screen.contains("\u{1B}["), "\(screen.debugDescription)")
        }
    }

    /// `parley ask` on a terminal formats the answer; with --raw it prints it as it came.
    @Test func askFormatsForATerminalUnlessRaw() async throws {
        try await TerminalClientTests.withServer { setup in
            for (raw, expected) in [(false, "\u{1B}[1mbold"), (true, "some **bold** words")] {
                let terminal = try await TmuxTerminal([setup.workspace.binary, "ask"] + (raw ? ["--raw"] : []) + ["mock:echo=1 mock:tokens=3 some **bold** words"],
                                                      environment: setup.environment, directory: setup.workspace.directory)
                defer { Task { await terminal.stop() } }
                let status = try await terminal.waitForExit()
                let screen = try await terminal.waitFor("the answer", escapes: true) { $0.contains(expected) }
                #expect(status == 0, "\(raw): \(screen.debugDescription)")
                #expect(raw == screen.contains("**"), "\(screen.debugDescription)")
                await terminal.stop()
            }
        }
    }
}
