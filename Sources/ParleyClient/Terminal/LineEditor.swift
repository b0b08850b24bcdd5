import Foundation

/// The message being typed at the chat prompt and what keys do to it (Emacs-style, as in a shell): moving by
/// character, word and line, deleting, the history (↑/↓, Ctrl-R to search it), more lines (Alt-Enter, a paste,
/// or a message that starts with `"""` until a line that is only `"""`), Tab to complete a `/command`.
/// Pure state: ``LineEditorView`` draws it, the chat reads keys into it.
public struct LineEditor: Sendable {
    /// What a key asks of the chat, beyond changing the text.
    public enum Outcome: Equatable, Sendable {
        /// Send this message (or run this command).
        case submit(String)
        /// Ctrl-C or Ctrl-D at an empty prompt: leave.
        case leave
        /// Ctrl-X Ctrl-E: edit the message in `$EDITOR`.
        case openEditor
        /// Ctrl-L.
        case clearScreen
        /// Ctrl-Z.
        case suspend
    }

    public private(set) var text: [Character] = []
    public private(set) var cursor = 0
    public private(set) var history: History
    /// Where ↑/↓ are in the history (`history.entries.count` is the message being typed).
    private var historyIndex: Int
    private var draft: [Character] = []
    /// Ctrl-R: the words searched for, the entry found, the text before the search.
    public private(set) var search: (query: String, match: Int?, before: [Character])?
    private var afterControlX = false
    let commands: [String]

    public init(history: History, commands: [String] = []) {
        self.history = history
        self.historyIndex = history.entries.count
        self.commands = commands
    }

    /// Starts a new message, empty or holding `text` (to edit a message sent before).
    public mutating func reset(to text: String = "") {
        self.text = Array(text)
        cursor = self.text.count
        historyIndex = history.entries.count
        search = nil
        afterControlX = false
    }

    /// Records a sent message in the history.
    public mutating func remember(_ message: String) {
        history.add(message)
        historyIndex = history.entries.count
    }

    public mutating func handle(_ key: Key) -> Outcome? {
        if search != nil, let outcome = handleSearch(key) { return outcome }
        if search != nil { return nil }
        if afterControlX {
            afterControlX = false
            if key == .control("e") { return .openEditor }
        }
        switch key {
        case .text(let typed): insert(typed)
        case .paste(let pasted): insert(pasted)
        case .newline: insert("\n")
        case .enter: return enter()
        case .tab: complete()
        case .backspace, .control("h"):
            if cursor > 0 { text.remove(at: cursor - 1); cursor -= 1 }
        case .delete: if cursor < text.count { text.remove(at: cursor) }
        case .left, .control("b"): cursor = max(0, cursor - 1)
        case .right, .control("f"): cursor = min(text.count, cursor + 1)
        case .home, .control("a"): cursor = lineStart(cursor)
        case .end, .control("e"): cursor = lineEnd(cursor)
        case .wordLeft: cursor = wordStart(before: cursor)
        case .wordRight: cursor = wordEnd(after: cursor)
        case .deleteWordBack, .control("w"):
            let start = wordStart(before: cursor)
            text.removeSubrange(start..<cursor)
            cursor = start
        case .control("k"): text.removeSubrange(cursor..<lineEnd(cursor))
        case .control("u"):
            let start = lineStart(cursor)
            text.removeSubrange(start..<cursor)
            cursor = start
        case .up, .control("p"): up()
        case .down, .control("n"): down()
        case .control("r"): search = ("", nil, text)
        case .control("x"): afterControlX = true
        case .control("l"): return .clearScreen
        case .control("z"): return .suspend
        case .control("c"):
            if text.isEmpty { return .leave }
            reset()
        case .control("d"):
            if text.isEmpty { return .leave }
            if cursor < text.count { text.remove(at: cursor) }
        default:
            break
        }
        return nil
    }

    // MARK: Keys

    private mutating func insert(_ typed: String) {
        let characters = Array(typed)
        text.insert(contentsOf: characters, at: cursor)
        cursor += characters.count
    }

    /// Enter sends, except inside a `"""` block, which it continues until its closing `"""` line.
    private mutating func enter() -> Outcome? {
        let message = String(text)
        guard message.hasPrefix("\"\"\"") else { return .submit(message) }
        let lines = message.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.count > 1, lines.last?.trimmingCharacters(in: .whitespaces) == "\"\"\"" {
            let first = lines[0].dropFirst(3)
            let body = (first.isEmpty ? [] : [first]) + lines.dropFirst().dropLast()
            return .submit(body.joined(separator: "\n"))
        }
        cursor = text.count
        insert("\n")
        return nil
    }

    private mutating func complete() {
        let typed = String(text)
        guard typed.hasPrefix("/"), !typed.contains(" "), cursor == text.count else { return }
        let matches = commands.filter { $0.hasPrefix(typed) }
        guard !matches.isEmpty else { return }
        // As far as all matches agree; a space after a single one.
        var common = matches[0]
        for match in matches.dropFirst() { common = String(common.commonPrefix(with: match)) }
        text = Array(common + (matches.count == 1 ? " " : ""))
        cursor = text.count
    }

    private mutating func up() {
        let start = lineStart(cursor)
        if start > 0 {
            let column = cursor - start
            let previous = lineStart(start - 1)
            cursor = min(previous + column, start - 1)
            return
        }
        guard historyIndex > 0 else { return }
        if historyIndex == history.entries.count { draft = text }
        historyIndex -= 1
        text = Array(history.entries[historyIndex])
        cursor = text.count
    }

    private mutating func down() {
        let end = lineEnd(cursor)
        if end < text.count {
            let column = cursor - lineStart(cursor)
            cursor = min(end + 1 + column, lineEnd(end + 1))
            return
        }
        guard historyIndex < history.entries.count else { return }
        historyIndex += 1
        text = historyIndex == history.entries.count ? draft : Array(history.entries[historyIndex])
        cursor = text.count
    }

    /// Keys while searching the history; nil when the key ends the search and is then handled as usual.
    private mutating func handleSearch(_ key: Key) -> Outcome?? {
        guard var current = search else { return nil }
        switch key {
        case .text(let typed), .paste(let typed):
            current.query += typed
            current.match = history.search(current.query, before: (current.match ?? history.entries.count) + 1)
        case .backspace:
            current.query = String(current.query.dropLast())
            current.match = history.search(current.query, before: history.entries.count)
        case .control("r"):
            if let found = history.search(current.query, before: current.match ?? history.entries.count) {
                current.match = found
            }
        case .control("c"), .control("g"), .escape:
            text = current.before
            cursor = text.count
            search = nil
            return .some(nil)
        case .enter:
            search = nil
            if let match = current.match { text = Array(history.entries[match]) }
            cursor = text.count
            return .some(enter())
        default:
            // Any other key takes the entry found for editing, then acts on it.
            search = nil
            if let match = current.match {
                text = Array(history.entries[match])
                historyIndex = match
            }
            cursor = text.count
            return nil
        }
        search = current
        return .some(nil)
    }

    // MARK: Positions

    private func lineStart(_ position: Int) -> Int {
        text[..<position].lastIndex(of: "\n").map { $0 + 1 } ?? 0
    }

    private func lineEnd(_ position: Int) -> Int {
        text[position...].firstIndex(of: "\n") ?? text.count
    }

    private func wordStart(before position: Int) -> Int {
        var index = position
        while index > 0, !text[index - 1].isLetter && !text[index - 1].isNumber { index -= 1 }
        while index > 0, text[index - 1].isLetter || text[index - 1].isNumber { index -= 1 }
        return index
    }

    private func wordEnd(after position: Int) -> Int {
        var index = position
        while index < text.count, !text[index].isLetter && !text[index].isNumber { index += 1 }
        while index < text.count, text[index].isLetter || text[index].isNumber { index += 1 }
        return index
    }

    /// What to draw: the prompt's text and the message with the cursor, or the search and the entry it found.
    public var display: (prompt: String?, text: [Character], cursor: Int) {
        guard let search else { return (nil, text, cursor) }
        let found = search.match.map { Array(history.entries[$0]) } ?? []
        let failed = search.match == nil && !search.query.isEmpty
        return ("(\(failed ? "failing " : "")search) \(search.query): ", found, found.count)
    }
}
