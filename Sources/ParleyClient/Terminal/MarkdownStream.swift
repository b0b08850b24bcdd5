/// Renders a streamed Markdown answer for a terminal as it arrives: headings and bold in bold, italics, inline
/// code in colour, code blocks on their own background, bullets, quotes and rules drawn, and every paragraph
/// wrapped at the terminal's width. The line still arriving is drawn again as each piece comes (so a `**` that is
/// closed later turns bold), and is fixed once its line ends. The width is asked for each call, so a window that
/// is resized shapes what is printed next. Text from the model is made ``TerminalText/safe(_:)`` on the way.
public struct MarkdownStream: Sendable {
    private var blocks = MarkdownBlocks()
    /// The source of the line still arriving.
    private var pending = ""
    /// The rows that line takes on screen now (the cursor is at the end of the last).
    private var drawnRows = 0

    public init() {}

    /// What to write to the terminal for `text`, the next piece of the answer.
    public mutating func feed(_ text: String, width: Int) -> String {
        var output = ""
        pending += text
        while let end = pending.firstIndex(where: { $0 == "\n" || $0 == "\r\n" }) {
            let line = String(pending[..<end])
            pending = String(pending[pending.index(after: end)...])
            output += erase()
            let rows = blocks.render(line, width: width, final: true)
            output += rows.map(MarkdownBlocks.escapes).joined(separator: "\n") + (rows.isEmpty ? "" : "\n")
        }
        if !pending.isEmpty {
            output += erase()
            var draft = blocks
            let rows = draft.render(pending, width: width, final: false)
            output += rows.map(MarkdownBlocks.escapes).joined(separator: "\n")
            drawnRows = rows.count
        }
        return output
    }

    /// What to write once the answer is complete: its last line fixed, the cursor at the start of a new row.
    public mutating func finish(width: Int) -> String {
        guard !pending.isEmpty else { return "" }
        return feed("\n", width: width)
    }

    private mutating func erase() -> String {
        defer { drawnRows = 0 }
        guard drawnRows > 0 else { return "" }
        return "\r" + (drawnRows > 1 ? "\u{1B}[\(drawnRows - 1)A" : "") + "\u{1B}[J"
    }
}

/// A character on screen and how it is drawn.
struct Cell: Equatable, Sendable {
    var character: Character
    var style: CellStyle
}

/// The terminal attributes of a ``Cell`` (SGR).
struct CellStyle: OptionSet, Hashable, Sendable {
    let rawValue: UInt8
    static let bold = CellStyle(rawValue: 1)
    static let italic = CellStyle(rawValue: 2)
    static let underline = CellStyle(rawValue: 4)
    static let dim = CellStyle(rawValue: 8)
    static let code = CellStyle(rawValue: 16)
    static let block = CellStyle(rawValue: 32)

    var escape: String {
        var codes = ["0"]
        if contains(.bold) { codes.append("1") }
        if contains(.dim) { codes.append("2") }
        if contains(.italic) { codes.append("3") }
        if contains(.underline) { codes.append("4") }
        if contains(.code) { codes.append("36") }
        if contains(.block) { codes.append("48;5;236") }
        return "\u{1B}[" + codes.joined(separator: ";") + "m"
    }
}

/// Markdown's block structure, one source line at a time: the rows a line becomes at a width.
struct MarkdownBlocks: Sendable {
    /// The fence of the code block the lines are in (```` ``` ```` or `~~~`), if any.
    var fence: String?

    mutating func render(_ line: String, width: Int, final: Bool) -> [[Cell]] {
        let width = max(width, 12)
        let trimmed = line.drop { $0 == " " }
        if let fence {
            if trimmed.hasPrefix(fence), trimmed.dropFirst(fence.count).allSatisfy({ $0 == fence.first || $0 == " " }) {
                if final { self.fence = nil }
                return []
            }
            return codeRows(line, width: width)
        }
        for marker in ["```", "~~~"] where trimmed.hasPrefix(marker) && line.count - trimmed.count < 4 {
            if final { fence = String(trimmed.prefix { $0 == marker.first }) }
            return []
        }
        if trimmed.isEmpty { return [[]] }
        if let heading = Self.heading(trimmed) {
            let style: CellStyle = heading.level == 1 ? [.bold, .underline] : .bold
            return Self.wrap(Self.inline(heading.text, base: style), prefix: [], hang: [], width: width)
        }
        if Self.isRule(trimmed) {
            return [Array(repeating: Cell(character: "─", style: .dim), count: min(width, 60))]
        }
        if trimmed.hasPrefix(">") {
            let quoted = trimmed.dropFirst().drop { $0 == " " }
            let bar = Self.cells("│ ", .dim)
            return Self.wrap(Self.inline(quoted, base: .italic), prefix: bar, hang: bar, width: width)
        }
        if let item = Self.listItem(line) {
            let indent = String(repeating: " ", count: min(item.indent, 8))
            let prefix = Self.cells(indent + item.marker + " ", [])
            let hang = Self.cells(String(repeating: " ", count: TerminalText.columns(of: indent + item.marker) + 1), [])
            return Self.wrap(Self.inline(item.text, base: []), prefix: prefix, hang: hang, width: width)
        }
        return Self.wrap(Self.inline(trimmed, base: []), prefix: [], hang: [], width: width)
    }

    // MARK: Blocks

    static func heading(_ line: Substring) -> (level: Int, text: Substring)? {
        let level = line.prefix { $0 == "#" }.count
        guard (1...6).contains(level) else { return nil }
        let rest = line.dropFirst(level)
        guard rest.isEmpty || rest.first == " " else { return nil }
        var text = rest.drop { $0 == " " }
        while text.last == "#" || text.last == " " { text = text.dropLast() }
        return (level, text)
    }

    static func isRule(_ line: Substring) -> Bool {
        let marks = line.filter { $0 != " " }
        guard let first = marks.first, "-*_".contains(first), marks.count >= 3 else { return false }
        return marks.allSatisfy { $0 == first }
    }

    static func listItem(_ line: String) -> (indent: Int, marker: String, text: Substring)? {
        let body = line.drop { $0 == " " }
        let indent = line.count - body.count
        if let first = body.first, "-*+".contains(first), body.dropFirst().first == " " {
            return (indent, "•", body.dropFirst(2))
        }
        let digits = body.prefix { $0.isASCII && $0.isNumber }
        let after = body.dropFirst(digits.count)
        guard (1...9).contains(digits.count), let dot = after.first, ".)".contains(dot), after.dropFirst().first == " " else {
            return nil
        }
        return (indent, String(digits) + String(dot), after.dropFirst(2))
    }

    func codeRows(_ line: String, width: Int) -> [[Cell]] {
        var rows: [[Cell]] = [[]]
        var column = 0
        for character in line {
            for shown in TerminalText.visible(character) {
                let columns = TerminalText.columns(shown)
                if column + columns > width {
                    rows.append([])
                    column = 0
                }
                rows[rows.count - 1].append(Cell(character: shown, style: .block))
                column += columns
            }
        }
        return rows.map { row in
            let used = TerminalText.columns(of: row.map(\.character))
            return row + Array(repeating: Cell(character: " ", style: .block), count: max(0, width - used))
        }
    }

    // MARK: Inline

    /// The cells of a line's inline Markdown: `**bold**`, `*italic*`, `` `code` ``, `[text](url)`, `\` escapes.
    /// A marker without its closing one is shown as it is.
    static func inline(_ text: Substring, base: CellStyle) -> [Cell] {
        let characters = Array(text)
        var cells: [Cell] = []
        var opened: CellStyle = []
        var style: CellStyle { base.union(opened) }
        var index = 0
        func add(_ character: Character, _ style: CellStyle) {
            for shown in TerminalText.visible(character) { cells.append(Cell(character: shown, style: style)) }
        }
        while index < characters.count {
            let character = characters[index]
            if character == "\\", index + 1 < characters.count, characters[index + 1].isASCII, characters[index + 1].isPunctuation || characters[index + 1].isSymbol {
                add(characters[index + 1], style)
                index += 2
                continue
            }
            if character == "`" {
                let run = characters[index...].prefix { $0 == "`" }.count
                if let close = closing(String(repeating: "`", count: run), in: characters, after: index + run) {
                    for inner in characters[(index + run)..<close] { add(inner, style.union(.code)) }
                    index = close + run
                    continue
                }
                for _ in 0..<run { add("`", style) }
                index += run
                continue
            }
            if character == "*" || character == "_" {
                let double = index + 1 < characters.count && characters[index + 1] == character
                let marker = double ? 2 : 1
                let kind: CellStyle = double ? .bold : .italic
                let previous = index > 0 ? characters[index - 1] : " "
                let next = index + marker < characters.count ? characters[index + marker] : " "
                if opened.contains(kind) && previous != " " {
                    opened.remove(kind)
                    index += marker
                    continue
                }
                let wordInside = character == "_" && (previous.isLetter || previous.isNumber)
                if !opened.contains(kind), next != " ", !wordInside,
                   closing(String(repeating: character, count: marker), in: characters, after: index + marker) != nil {
                    opened.insert(kind)
                    index += marker
                    continue
                }
            }
            if character == "[", let link = link(in: characters, at: index) {
                for inner in characters[(index + 1)..<link.textEnd] { add(inner, style.union(.underline)) }
                let url = String(characters[(link.textEnd + 2)..<link.end])
                if url != String(characters[(index + 1)..<link.textEnd]) {
                    for inner in " (\(url))" { add(inner, style.union(.dim)) }
                }
                index = link.end + 1
                continue
            }
            add(character, style)
            index += 1
        }
        return cells
    }

    static func closing(_ marker: String, in characters: [Character], after start: Int) -> Int? {
        let marks = Array(marker)
        var index = start + 1
        while index + marks.count <= characters.count {
            if Array(characters[index..<(index + marks.count)]) == marks, characters[index - 1] != " " {
                return index
            }
            index += 1
        }
        return nil
    }

    static func link(in characters: [Character], at start: Int) -> (textEnd: Int, end: Int)? {
        guard let textEnd = characters[start...].firstIndex(of: "]"), textEnd + 1 < characters.count,
              characters[textEnd + 1] == "(", let end = characters[(textEnd + 1)...].firstIndex(of: ")"),
              textEnd > start + 1 else { return nil }
        return (textEnd, end)
    }

    static func cells(_ text: String, _ style: CellStyle) -> [Cell] {
        text.map { Cell(character: $0, style: style) }
    }

    // MARK: Wrapping

    /// `cells` in rows of at most `width` columns, broken between words (a word longer than a row is broken
    /// where it must); the first row starts with `prefix`, the others with `hang`.
    static func wrap(_ cells: [Cell], prefix: [Cell], hang: [Cell], width: Int) -> [[Cell]] {
        let hangColumns = TerminalText.columns(of: hang.map(\.character))
        var rows: [[Cell]] = []
        var row = prefix
        var column = TerminalText.columns(of: prefix.map(\.character))
        var rowStart = column
        func newRow() {
            while row.count > 0, row.last?.character == " ", column > rowStart {
                row.removeLast()
                column -= 1
            }
            rows.append(row)
            row = hang
            column = hangColumns
            rowStart = hangColumns
        }
        var index = 0
        while index < cells.count {
            if cells[index].character == " " {
                if column == rowStart && !rows.isEmpty {
                    // No space at the start of a wrapped row.
                } else if column + 1 <= width {
                    row.append(cells[index])
                    column += 1
                } else {
                    newRow()
                }
                index += 1
                continue
            }
            let end = cells[index...].firstIndex { $0.character == " " } ?? cells.count
            let word = cells[index..<end]
            let wordColumns = TerminalText.columns(of: word.map(\.character))
            if column + wordColumns > width && column > rowStart { newRow() }
            for cell in word {
                let columns = TerminalText.columns(cell.character)
                if column + columns > width && column > rowStart { newRow() }
                row.append(cell)
                column += columns
            }
            index = end
        }
        rows.append(row)
        return rows
    }

    /// The terminal text of a row: its characters, with attributes switched where they change, reset at the end.
    static func escapes(_ row: [Cell]) -> String {
        var output = ""
        var current: CellStyle = []
        for cell in row {
            if cell.style != current {
                output += cell.style.escape
                current = cell.style
            }
            output.append(cell.character)
        }
        if current != [] { output += CellStyle().escape }
        return output
    }
}
