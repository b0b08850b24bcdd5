/// Trimming of the spaces and tabs around a header value or a setting, without Foundation's `CharacterSet`
/// (`trimmingCharacters(in: .whitespaces)` costs thousands of instructions per call: it goes through `NSString`).
/// HTTP allows only spaces and tabs around a field value, so no other whitespace is trimmed.
extension StringProtocol {
    /// The text without the spaces and tabs at either end.
    public var trimmingSpaces: SubSequence {
        let utf8 = self.utf8
        func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var front = utf8.startIndex
        while front != utf8.endIndex, isSpace(utf8[front]) { front = utf8.index(after: front) }
        // One pass forward (a StringProtocol's UTF-8 view only goes forward): the end of the last byte that is not a space.
        var back = front
        var index = front
        while index != utf8.endIndex {
            let next = utf8.index(after: index)
            if !isSpace(utf8[index]) { back = next }
            index = next
        }
        // Both ends sit next to an ASCII byte, so they are character boundaries.
        return self[front..<back]
    }
}
