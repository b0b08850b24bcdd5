import Foundation

/// Reads HTML as the Markdown it amounts to — headings, paragraphs, list items, preformatted blocks and table
/// rows — and then its structure as Markdown's. Scripts, styles, navigation and forms are left out; the title
/// heads the text when the page has no `h1`.
enum HTMLStructure {
    static let skipped: Set<String> = ["script", "style", "noscript", "template", "svg", "head", "nav", "form", "button", "select"]
    static let blocks: Set<String> = ["p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote",
                                      "figure", "figcaption", "dl", "dt", "dd", "ul", "ol", "table", "hr", "address",
                                      "details", "summary"]

    static func read(_ html: String) -> DocumentText {
        MarkdownStructure.read(markdown(html))
    }

    static func markdown(_ html: String) -> String {
        var scanner = MarkupScanner(html, lowercaseNames: true)
        var writer = MarkdownWriter()
        var title = "", inTitle = false, sawHeading = false
        var skipping: [String] = []
        var preformatted = 0
        var row: [String]? = nil, cell: String? = nil, headerRow = false, rowsWritten = 0
        while let token = scanner.next() {
            switch token {
            case .start(let name, _, let selfClosing):
                if name == "title" { inTitle = true; continue }
                if skipping.isEmpty, name == "script" || name == "style" {
                    scanner.skipRawText(until: name)
                    continue
                }
                if skipped.contains(name) && !selfClosing { skipping.append(name); continue }
                guard skipping.isEmpty else { continue }
                switch name {
                case "h1", "h2", "h3", "h4", "h5", "h6":
                    writer.startBlock(String(repeating: "#", count: Int(String(name.last!))!) + " ")
                    sawHeading = sawHeading || name == "h1"
                case "li": writer.startBlock("- ")
                case "br": if preformatted > 0 { writer.raw("\n") } else { writer.lineBreak() }
                case "pre":
                    writer.startBlock("```\n", fenced: true)
                    preformatted += 1
                case "table": rowsWritten = 0
                case "tr": row = []; headerRow = false
                case "td", "th": cell = ""; headerRow = headerRow || name == "th"
                default: if blocks.contains(name) { writer.endBlock() }
                }
            case .end(let name):
                if name == "title" { inTitle = false; continue }
                if let last = skipping.last, last == name { skipping.removeLast(); continue }
                guard skipping.isEmpty else { continue }
                switch name {
                case "pre":
                    preformatted = max(0, preformatted - 1)
                    writer.raw("\n```")
                    writer.endBlock()
                case "td", "th":
                    if let text = cell { row?.append(MarkdownWriter.collapsed(text).replacingOccurrences(of: "|", with: "/")) }
                    cell = nil
                case "tr":
                    if let cells = row, !cells.isEmpty {
                        writer.tableRow(cells, header: headerRow || rowsWritten == 0)
                        rowsWritten += 1
                    }
                    row = nil
                case "table": writer.endTable()
                default:
                    if name.count == 2, name.first == "h", name.last!.isNumber { writer.endBlock() }
                    else if name == "li" || blocks.contains(name) { writer.endBlock() }
                }
            case .text(let text):
                if inTitle { title += text; continue }
                guard skipping.isEmpty else { continue }
                if cell != nil { cell! += text } else if preformatted > 0 { writer.raw(text) } else { writer.text(text) }
            }
        }
        writer.endBlock()
        let heading = MarkdownWriter.collapsed(title)
        return (sawHeading || heading.isEmpty ? "" : "# \(heading)\n\n") + writer.output
    }
}

/// Writes Markdown block by block: text within a block has its whitespace collapsed; blocks are separated by a
/// blank line; table rows by a line break, with the header rule after the first.
struct MarkdownWriter {
    private(set) var output = ""
    private var block = ""
    private var prefix = ""
    private var fenced = false
    private var inTable = false

    mutating func startBlock(_ marker: String, fenced: Bool = false) {
        endBlock()
        prefix = marker
        self.fenced = fenced
    }

    mutating func text(_ text: String) {
        guard !fenced else { block += text; return }
        var collapsed = ""
        var lastWasSpace = block.isEmpty || block.last == " " || block.last == "\n"
        for character in text {
            if character.isWhitespace {
                if !lastWasSpace { collapsed.append(" ") }
                lastWasSpace = true
            } else {
                collapsed.append(character)
                lastWasSpace = false
            }
        }
        block += collapsed
    }

    mutating func raw(_ text: String) { block += text }

    mutating func lineBreak() {
        while block.last == " " { block.removeLast() }
        if !block.isEmpty { block += "\n" }
    }

    mutating func tableRow(_ cells: [String], header: Bool) {
        if !inTable { endBlock(); if !output.isEmpty { output += "\n\n" } }
        else { output += "\n" }
        output += "| " + cells.joined(separator: " | ") + " |"
        if header && !inTable { output += "\n|" + String(repeating: " --- |", count: cells.count) }
        inTable = true
    }

    mutating func endBlock() {
        defer {
            block = ""
            prefix = ""
            fenced = false
        }
        let body = fenced ? block.trimmingCharacters(in: .newlines) : block.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !body.isEmpty else { return }
        inTable = false
        output += (output.isEmpty ? "" : "\n\n") + prefix + body
    }

    /// Form feeds: what follows is on the next page.
    mutating func pageBreaks(_ count: Int) {
        output += String(repeating: "\u{0C}", count: count)
    }

    mutating func endTable() {
        endBlock()
        inTable = false
    }

    static func collapsed(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
