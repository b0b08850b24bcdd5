/// Reads JSON: an array's elements, or an object's members, are the blocks (each covering its exact text), so a
/// list of records is chunked record by record; what is inside one is cut like any long paragraph.
public enum JSONStructure {
    /// nil when `text` is not JSON.
    public static func read(_ text: String) -> DocumentText? {
        guard let parts = topLevelParts(of: text) else { return nil }
        let blocks = parts.map { DocumentBlock(kind: .paragraph, range: $0, page: 1) }
        return DocumentText(text: text, blocks: blocks, pageCount: nil)
    }

    /// The ranges of the top-level array's elements or object's members (a scalar: the whole of it); nil when the
    /// brackets, braces or strings do not balance.
    static func topLevelParts(of text: String) -> [Range<String.Index>]? {
        let utf8 = text.utf8
        guard let first = utf8.firstIndex(where: { !Self.isSpace($0) }) else { return nil }
        let opener = utf8[first]
        guard opener == UInt8(ascii: "[") || opener == UInt8(ascii: "{") else {
            let last = utf8.lastIndex(where: { !Self.isSpace($0) })!
            return [first..<utf8.index(after: last)]
        }
        var parts: [Range<String.Index>] = []
        var depth = 0, inString = false, escaped = false
        var partStart: String.Index?
        var index = first
        while index < utf8.endIndex {
            let byte = utf8[index]
            defer { index = utf8.index(after: index) }
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                if depth == 1 && partStart == nil { partStart = index }
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                if depth == 1 && partStart == nil { partStart = index }
                depth += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 {
                    if let start = partStart { parts.append(trimmed(start..<index, in: text)) }
                    let rest = utf8[utf8.index(after: index)...]
                    return rest.allSatisfy(Self.isSpace) ? parts : nil
                }
                if depth < 0 { return nil }
            case UInt8(ascii: ","):
                if depth == 1, let start = partStart {
                    parts.append(trimmed(start..<index, in: text))
                    partStart = nil
                }
            default:
                if depth == 1 && partStart == nil && !Self.isSpace(byte) { partStart = index }
            }
        }
        return nil
    }

    private static func trimmed(_ range: Range<String.Index>, in text: String) -> Range<String.Index> {
        var end = range.upperBound
        while end > range.lowerBound, isSpace(text.utf8[text.utf8.index(before: end)]) { end = text.utf8.index(before: end) }
        return range.lowerBound..<end
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}
