/// Trimming of the spaces and tabs around a header value or a setting, without Foundation's `CharacterSet`
/// (`trimmingCharacters(in: .whitespaces)` costs thousands of instructions per call: it goes through `NSString`).
/// HTTP allows only spaces and tabs around a field value, so no other whitespace is trimmed.
extension StringProtocol {
    /// The text without the spaces and tabs at either end.
    public var trimmingSpaces: SubSequence {
        let utf8 = self.utf8
        var front = utf8.startIndex
        while front != utf8.endIndex, utf8[front].isSpaceOrTab { front = utf8.index(after: front) }
        // One pass forward (a StringProtocol's UTF-8 view only goes forward): the end of the last byte that is not a space.
        var back = front
        var index = front
        while index != utf8.endIndex {
            let next = utf8.index(after: index)
            if !utf8[index].isSpaceOrTab { back = next }
            index = next
        }
        // Both ends sit next to an ASCII byte, so they are character boundaries.
        return self[front..<back]
    }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// The bytes without the spaces and tabs at either end, for text read as UTF-8 on a hot path.
    public var trimmingSpaces: UnsafeBufferPointer<UInt8> {
        var start = 0, end = count
        while start < end, self[start].isSpaceOrTab { start += 1 }
        while end > start, self[end - 1].isSpaceOrTab { end -= 1 }
        return UnsafeBufferPointer(rebasing: self[start..<end])
    }
}

extension UInt8 {
    /// A space or a tab: what HTTP allows around a field value.
    @inlinable public var isSpaceOrTab: Bool { self == UInt8(ascii: " ") || self == UInt8(ascii: "\t") }

    /// The byte with an ASCII capital letter made small; any other byte as it is.
    @inlinable public var asciiLowercased: UInt8 { self >= UInt8(ascii: "A") && self <= UInt8(ascii: "Z") ? self + 32 : self }
}
