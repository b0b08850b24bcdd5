/// Reads CSV and TSV (RFC 4180: quoted fields, doubled quotes, line breaks inside quotes): the first record is the
/// table's header and every other record a row, each block covering its record's exact text.
public enum DelimitedStructure {
    /// `text` as a table; `delimiter` is `,`, `;` or a tab.
    public static func read(_ text: String, delimiter: Character = ",") -> DocumentText {
        var blocks: [DocumentBlock] = []
        for record in records(of: text, delimiter: delimiter) {
            let line = text[record]
            guard !line.allSatisfy({ $0.isWhitespace || $0 == delimiter }) else { continue }
            blocks.append(DocumentBlock(kind: blocks.isEmpty ? .tableHeader : .tableRow, range: record, page: 1))
        }
        return DocumentText(text: text, blocks: blocks, pageCount: nil)
    }

    /// The ranges of the records, without their line breaks; a quoted field may hold line breaks.
    static func records(of text: String, delimiter: Character) -> [Range<String.Index>] {
        var records: [Range<String.Index>] = []
        var start = text.startIndex, index = text.startIndex
        var quoted = false
        while index < text.endIndex {
            let character = text[index]
            if character == "\"" {
                quoted.toggle()  // a doubled quote toggles twice
            } else if !quoted && (character == "\n" || character == "\r\n" || character == "\r") {
                records.append(start..<index)
                start = text.index(after: index)
            }
            index = text.index(after: index)
        }
        if start < text.endIndex { records.append(start..<text.endIndex) }
        return records
    }

    /// The delimiter the first lines agree on (the same number of it, at least one, in each), if any.
    public static func detectDelimiter(_ text: String) -> Character? {
        let head = String(text.prefix(8_192))
        let lines = records(of: head, delimiter: ",").prefix(6).map { head[$0] }.filter { !$0.isEmpty }
        guard lines.count >= 2 else { return nil }
        for delimiter: Character in [",", "\t", ";"] {
            // The sixth line may be cut by the 8 KiB window; quoted delimiters do not count.
            let counts = lines.prefix(lines.count == 6 ? 5 : lines.count).map { line in
                var quoted = false
                return line.reduce(0) { count, character in
                    if character == "\"" { quoted.toggle() }
                    return count + (!quoted && character == delimiter ? 1 : 0)
                }
            }
            if let first = counts.first, first > 0, counts.allSatisfy({ $0 == first }) { return delimiter }
        }
        return nil
    }
}
