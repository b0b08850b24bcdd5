/// Reads the structure of Markdown and of plain text (which is Markdown without markup): ATX and setext headings,
/// paragraphs, list items, fenced code blocks kept whole, and pipe tables row by row. A form feed starts a new page,
/// as in `pdftotext`'s output.
public enum MarkdownStructure {
    public static func read(_ text: String) -> DocumentText {
        var reader = Reader(text: text)
        for line in lines(of: text) { reader.take(line) }
        reader.endParagraph()
        reader.endFence()
        return DocumentText(text: text, blocks: reader.blocks, pageCount: reader.sawPageBreak ? reader.page : nil)
    }

    /// The lines of `text` as ranges, without their line breaks.
    static func lines(of text: String) -> [Range<String.Index>] {
        var lines: [Range<String.Index>] = []
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == "\n" || text[index] == "\r\n" {
                lines.append(start..<index)
                start = text.index(after: index)
            }
            index = text.index(after: index)
        }
        if start < text.endIndex { lines.append(start..<text.endIndex) }
        return lines
    }

    private struct Reader {
        let text: String
        var blocks: [DocumentBlock] = []
        var page = 1
        var sawPageBreak = false
        /// The open paragraph or list item: its kind and range so far.
        var paragraph: (kind: DocumentBlock.Kind, range: Range<String.Index>, lines: Int)?
        /// The open fenced code block: its marker and where it started.
        var fence: (marker: String, start: String.Index, page: Int)?
        var inTable = false

        init(text: String) { self.text = text }

        mutating func take(_ whole: Range<String.Index>) {
            var line = whole
            // Form feeds end a page; what follows one on the same line is on the next page.
            if let feed = text[line].lastIndex(of: "\u{0C}") {
                endParagraph()
                let feeds = text[line].reduce(0) { $0 + ($1 == "\u{0C}" ? 1 : 0) }
                page += feeds
                sawPageBreak = true
                inTable = false
                line = text.index(after: feed)..<line.upperBound
            }
            let content = text[line]
            let trimmed = content.drop { $0 == " " || $0 == "\t" }
            if let open = fence {
                if trimmed.hasPrefix(open.marker) && trimmed.drop(while: { $0 == open.marker.first }).allSatisfy(\.isWhitespace) {
                    blocks.append(DocumentBlock(kind: .code, range: open.start..<line.upperBound, page: open.page))
                    fence = nil
                }
                return
            }
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                endParagraph()
                inTable = false
                fence = (String(trimmed.prefix(3)), line.lowerBound, page)
                return
            }
            if trimmed.allSatisfy(\.isWhitespace) {
                endParagraph()
                inTable = false
                return
            }
            if let level = Self.headingLevel(trimmed) {
                endParagraph()
                inTable = false
                let title = trimmed.drop { $0 == "#" }.trimming(" \t#")
                blocks.append(DocumentBlock(kind: .heading(level: level), range: line, page: page, title: title))
                return
            }
            // A setext underline turns the one-line paragraph above it into a heading.
            if let open = paragraph, open.kind == .paragraph, open.lines == 1, trimmed.count >= 3,
               let mark = trimmed.first, mark == "=" || mark == "-",
               trimmed.trimming(" \t").allSatisfy({ $0 == mark }) {
                paragraph = nil
                blocks.append(DocumentBlock(kind: .heading(level: mark == "=" ? 1 : 2), range: open.range.lowerBound..<line.upperBound,
                                            page: page, title: text[open.range].trimming(" \t")))
                return
            }
            if trimmed.hasPrefix("|") {
                endParagraph()
                if Self.isTableRule(trimmed) { return }
                blocks.append(DocumentBlock(kind: inTable ? .tableRow : .tableHeader, range: line, page: page))
                inTable = true
                return
            }
            inTable = false
            if Self.isListItem(trimmed) {
                endParagraph()
                paragraph = (.listItem, line, 1)
                return
            }
            if let open = paragraph {
                paragraph = (open.kind, open.range.lowerBound..<line.upperBound, open.lines + 1)
            } else {
                paragraph = (.paragraph, line, 1)
            }
        }

        mutating func endParagraph() {
            if let open = paragraph { blocks.append(DocumentBlock(kind: open.kind, range: open.range, page: page)) }
            paragraph = nil
        }

        /// An unclosed fence runs to the end of the text.
        mutating func endFence() {
            if let open = fence { blocks.append(DocumentBlock(kind: .code, range: open.start..<text.endIndex, page: open.page)) }
            fence = nil
        }

        static func headingLevel(_ line: Substring) -> Int? {
            let hashes = line.prefix { $0 == "#" }.count
            guard (1...6).contains(hashes) else { return nil }
            let rest = line.dropFirst(hashes)
            return rest.isEmpty || rest.first == " " || rest.first == "\t" ? hashes : nil
        }

        static func isTableRule(_ line: Substring) -> Bool {
            line.contains("-") && line.allSatisfy { "|-: \t".contains($0) }
        }

        static func isListItem(_ line: Substring) -> Bool {
            if let first = line.first, "-*+".contains(first) { return line.dropFirst().first == " " }
            let digits = line.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 9 else { return false }
            let rest = line.dropFirst(digits.count)
            return (rest.first == "." || rest.first == ")") && rest.dropFirst().first == " "
        }
    }
}

extension StringProtocol {
    /// The text without any of `characters` at either end.
    func trimming(_ characters: String) -> String {
        let set = Set(characters)
        guard let first = firstIndex(where: { !set.contains($0) }) else { return "" }
        let last = lastIndex(where: { !set.contains($0) })!
        return String(self[first...last])
    }
}
