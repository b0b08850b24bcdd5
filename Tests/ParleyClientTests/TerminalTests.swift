import Foundation
@testable import ParleyClient
import Testing

@Suite struct KeyDecoderTests {
    @Test func textArrowsAndControls() {
        var decoder = KeyDecoder()
        #expect(decoder.feed(Array("héllo".utf8)) == [.text("héllo")])
        #expect(decoder.feed(Array("a\u{1B}[Db\r".utf8)) == [.text("a"), .left, .text("b"), .enter])
        #expect(decoder.feed([0x03, 0x04, 0x12, 0x7F]) == [.control("c"), .control("d"), .control("r"), .backspace])
        #expect(decoder.feed(Array("\u{1B}OH\u{1B}[4~\u{1B}[3~\u{1B}[1;5C\u{1B}\r".utf8)) == [.home, .end, .delete, .wordRight, .newline])
    }

    @Test func sequencesSplitBetweenReads() {
        var decoder = KeyDecoder()
        #expect(decoder.feed(Array("x\u{1B}[".utf8)) == [.text("x")])
        #expect(decoder.feed(Array("A".utf8)) == [.up])
        let euro = Array("€".utf8)
        #expect(decoder.feed(euro.prefix(2)) == [])
        #expect(decoder.feed(euro.suffix(1)) == [.text("€")])
        #expect(decoder.feed([0x1B]) == [.escape])
    }

    @Test func bracketedPasteIsOneKeyWithItsNewlines() {
        var decoder = KeyDecoder()
        let paste = "\u{1B}[200~line one\r\nline two\u{1B}[201~"
        let bytes = Array(paste.utf8)
        var keys: [Key] = []
        for chunk in stride(from: 0, to: bytes.count, by: 5) {
            keys += decoder.feed(bytes[chunk..<min(chunk + 5, bytes.count)])
        }
        #expect(keys == [.paste("line one\nline two")])
        #expect(decoder.feed(Array("z".utf8)) == [.text("z")])
    }
}

@Suite struct LineEditorTests {
    func type(_ text: String, into editor: inout LineEditor) {
        _ = editor.handle(.text(text))
    }

    @Test func editingKeys() {
        var editor = LineEditor(history: History(file: nil))
        type("hello world", into: &editor)
        _ = editor.handle(.control("w"))
        #expect(String(editor.text) == "hello ")
        _ = editor.handle(.control("a"))
        type(">", into: &editor)
        _ = editor.handle(.end)
        type("there", into: &editor)
        _ = editor.handle(.wordLeft)
        _ = editor.handle(.control("k"))
        #expect(String(editor.text) == ">hello ")
        #expect(editor.handle(.enter) == .submit(">hello "))
    }

    @Test func controlCClearsThenLeavesAndControlDLeavesOnlyWhenEmpty() {
        var editor = LineEditor(history: History(file: nil))
        type("abc", into: &editor)
        _ = editor.handle(.left)
        #expect(editor.handle(.control("d")) == nil)
        #expect(String(editor.text) == "ab")
        #expect(editor.handle(.control("c")) == nil)
        #expect(editor.text.isEmpty)
        #expect(editor.handle(.control("c")) == .leave)
        #expect(editor.handle(.control("d")) == .leave)
    }

    @Test func moreLinesByAltEnterPasteAndTripleQuotes() {
        var editor = LineEditor(history: History(file: nil))
        _ = editor.handle(.paste("first\nsecond"))
        _ = editor.handle(.newline)
        type("third", into: &editor)
        #expect(editor.handle(.enter) == .submit("first\nsecond\nthird"))

        editor.reset()
        type("\"\"\"", into: &editor)
        #expect(editor.handle(.enter) == nil)
        type("a", into: &editor)
        #expect(editor.handle(.enter) == nil)
        type("\"\"\"", into: &editor)
        #expect(editor.handle(.enter) == .submit("a"))
    }

    @Test func upAndDownMoveWithinAMessageThenThroughHistory() {
        var history = History(file: nil)
        history.add("older")
        history.add("newer")
        var editor = LineEditor(history: history)
        type("draft", into: &editor)
        _ = editor.handle(.up)
        #expect(String(editor.text) == "newer")
        _ = editor.handle(.up)
        #expect(String(editor.text) == "older")
        _ = editor.handle(.down)
        _ = editor.handle(.down)
        #expect(String(editor.text) == "draft")

        editor.reset(to: "ab\ncdef")
        _ = editor.handle(.up)
        #expect(editor.cursor == 2)
        #expect(String(editor.text) == "ab\ncdef")
    }

    @Test func controlRFindsOlderEntriesAndEnterSends() {
        var history = History(file: nil)
        for entry in ["deploy the app", "list files", "deploy again"] { history.add(entry) }
        var editor = LineEditor(history: history)
        _ = editor.handle(.control("r"))
        type("depl", into: &editor)
        #expect(String(editor.display.text) == "deploy again")
        _ = editor.handle(.control("r"))
        #expect(String(editor.display.text) == "deploy the app")
        #expect(editor.display.prompt?.contains("depl") == true)
        #expect(editor.handle(.enter) == .submit("deploy the app"))

        editor.reset(to: "kept")
        _ = editor.handle(.control("r"))
        type("zzz", into: &editor)
        #expect(editor.display.prompt?.contains("failing") == true)
        _ = editor.handle(.control("g"))
        #expect(String(editor.text) == "kept")
    }

    @Test func tabCompletesACommand() {
        var editor = LineEditor(history: History(file: nil), commands: ["/search", "/system", "/quit"])
        type("/q", into: &editor)
        _ = editor.handle(.tab)
        #expect(String(editor.text) == "/quit ")
        editor.reset(to: "/s")
        _ = editor.handle(.tab)
        #expect(String(editor.text) == "/s")
        editor.reset(to: "/se")
        _ = editor.handle(.tab)
        #expect(String(editor.text) == "/search ")
    }

    @Test func historyFileIsPrivateAndKeepsMultiLineEntries() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("parley-history-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/state/history"
        var history = History(file: file)
        history.add("one\ntwo")
        history.add("   ")
        history.add("three")
        history.add("three")
        #expect(History(file: file).entries == ["one\ntwo", "three"])
        let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}

@Suite struct LineEditorViewTests {
    @Test func theCursorReturnsToItsRowAndColumnWhenTheMessageWraps() {
        var view = LineEditorView()
        let text = Array("abcdefghij")
        // Width 8, prompt 2: "> abcdef" / "ghij", the cursor after "c" on the first row.
        let first = view.draw(prompt: "> ", promptColumns: 2, continuation: "  ", text: text, cursor: 3, width: 8)
        #expect(first.contains("abcdefghij"))
        #expect(first.hasSuffix("\u{1B}[1A\r\u{1B}[5C\u{1B}[?25h"))
        // Redrawing starts from the prompt's row: the cursor is on it, so no move up.
        let second = view.draw(prompt: "> ", promptColumns: 2, continuation: "  ", text: text, cursor: 10, width: 8)
        #expect(second.hasPrefix("\u{1B}[?25l\r\u{1B}[J"))
        let third = view.draw(prompt: "> ", promptColumns: 2, continuation: "  ", text: text, cursor: 10, width: 8)
        #expect(third.hasPrefix("\u{1B}[?25l\u{1B}[1A\r"))
    }

    @Test func wideCharactersAndControlsAreMeasured() {
        #expect(TerminalText.columns(of: "漢字ab") == 6)
        #expect(TerminalText.columns(of: "👍🏽") == 2)
        #expect(TerminalText.safe("ok\u{1B}]0;pwned\u{07}\r\n") == "ok^[]0;pwned^G\n")
    }
}

@Suite struct MarkdownStreamTests {
    /// The visible text of terminal output: escapes removed.
    func plain(_ output: String) -> String {
        output.replacing(/\u{1B}\[[0-9;?]*[A-Za-z]/, with: "")
    }

    @Test func stylesAndBlocks() {
        var stream = MarkdownStream()
        let output = stream.feed("# Title\nSome **bold**, *italic* and `code`.\n- one\n2. two\n> said\n```swift\nlet x = 1\n```\n---\n", width: 40)
            + stream.finish(width: 40)
        #expect(output.contains("\u{1B}[0;1;4mTitle"))
        #expect(output.contains("\u{1B}[0;1mbold\u{1B}[0m"))
        #expect(output.contains("\u{1B}[0;3mitalic"))
        #expect(output.contains("\u{1B}[0;36mcode"))
        #expect(output.contains("\u{1B}[0;48;5;236mlet x = 1" + String(repeating: " ", count: 31)))
        let lines = plain(output).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines == ["Title", "Some bold, italic and code.", "• one", "2. two", "│ said",
                          "let x = 1" + String(repeating: " ", count: 31), String(repeating: "─", count: 40), ""])
    }

    @Test func snakeCaseAndUnclosedMarkersStayAsWritten() {
        var stream = MarkdownStream()
        let output = plain(stream.feed("my_var_name and 2 * 3 and **open\n", width: 80))
        #expect(output == "my_var_name and 2 * 3 and **open\n")
    }

    @Test func paragraphsWrapAtTheWidthWithHangingIndentsForItems() {
        var stream = MarkdownStream()
        let output = plain(stream.feed("- alpha beta gamma delta epsilon\n", width: 16))
        #expect(output == "• alpha beta\n  gamma delta\n  epsilon\n")
    }

    @Test func theLineArrivingIsRedrawnAndFixedWhenItEnds() {
        var stream = MarkdownStream()
        let first = stream.feed("Hello **wor", width: 40)
        #expect(plain(first) == "Hello **wor")
        let second = stream.feed("ld** and", width: 40)
        // Back to the start of the row, cleared, drawn again with the bold closed.
        #expect(second.hasPrefix("\r\u{1B}[J"))
        #expect(second.contains("\u{1B}[0;1mworld\u{1B}[0m and"))
        let third = stream.feed(" a long tail that wraps\nNext", width: 20)
        #expect(third.hasPrefix("\r\u{1B}[J"))
        #expect(plain(third).hasSuffix("wraps\nNext"))
        let fourth = stream.finish(width: 20)
        #expect(fourth == "\r\u{1B}[JNext\n")
    }

    @Test func aWrappedLineArrivingIsErasedFromItsFirstRow() {
        var stream = MarkdownStream()
        _ = stream.feed("one two three four five six", width: 12)
        let next = stream.feed(" seven", width: 12)
        #expect(next.hasPrefix("\r\u{1B}[2A\u{1B}[J"))
    }

    @Test func controlCharactersFromTheModelAreShownNotObeyed() {
        var stream = MarkdownStream()
        let output = stream.feed("a\u{1B}[2Jb\n", width: 40)
        #expect(!output.contains("\u{1B}[2J"))
        #expect(plain(output) == "a^[[2Jb\n")
    }
}
