import ParleyCore

/// A small pull reader over UTF-8 JSON, for the few fixed shapes Parley reads on hot paths (streamed chunks).
/// It materialises only the values asked for and skips the rest, validating structure as it goes: numbers as
/// RFC 8259 writes them, no trailing commas, and no nesting deeper than ``maxDepth`` (so hostile input cannot
/// exhaust the stack).
package struct JSONScanner {
    package struct Malformed: Error {
        package var reason = "the request body is not valid JSON"
        package init(reason: String = "the request body is not valid JSON") { self.reason = reason }
    }

    /// Deepest nesting of objects and arrays accepted.
    static let maxDepth = 128

    let bytes: [UInt8]
    private(set) var position = 0
    private var depth = 0

    package init<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        self.bytes = Array(bytes)
    }

    /// True when only whitespace is left.
    package mutating func atEnd() -> Bool {
        skipWhitespace()
        return position == bytes.count
    }

    /// Reads an object, calling `field` with each key; `field` must consume the value.
    package mutating func readObject(_ field: (inout JSONScanner, JSONKey) throws -> Void) throws {
        try readMembers { scanner in
            let key = JSONKey(bytes: try scanner.readStringBytes())
            try scanner.expect(UInt8(ascii: ":"))
            try field(&scanner, key)
        }
    }

    /// Reads an object's braces and commas, calling `member` for each member (which must consume key and value).
    /// Always inlined: its callers' closures are then called directly, one call per member instead of two.
    @inline(__always) private mutating func readMembers(_ member: (inout JSONScanner) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        try enterContainer()
        defer { depth -= 1 }
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return
        }
        while true {
            skipWhitespace()
            try member(&self)
            skipWhitespace()
            guard let next = take() else { throw Malformed() }
            if next == UInt8(ascii: "}") { return }
            guard next == UInt8(ascii: ",") else { throw Malformed() }
        }
    }

    /// Reads an array, calling `element` for each item; `element` must consume it.
    package mutating func readArray(_ element: (inout JSONScanner) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        try enterContainer()
        defer { depth -= 1 }
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return
        }
        while true {
            try element(&self)
            skipWhitespace()
            guard let next = take() else { throw Malformed() }
            if next == UInt8(ascii: "]") { return }
            guard next == UInt8(ascii: ",") else { throw Malformed() }
        }
    }

    /// True (and consumed) if the next value is `null`.
    package mutating func readNull() -> Bool {
        skipWhitespace()
        guard position + 4 <= bytes.count, bytes[position] == UInt8(ascii: "n"), bytes[position + 1] == UInt8(ascii: "u"),
              bytes[position + 2] == UInt8(ascii: "l"), bytes[position + 3] == UInt8(ascii: "l") else { return false }
        position += 4
        return true
    }

    /// The byte offset of the next value (whitespace skipped).
    package mutating func valueStart() -> Int {
        skipWhitespace()
        return position
    }

    /// The byte offset just past what was read.
    package var offset: Int { position }

    /// The offset past the next comma if only whitespace comes before it, else ``offset``.
    package func offsetPastComma() -> Int {
        var index = position
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        return index < bytes.count && bytes[index] == UInt8(ascii: ",") ? index + 1 : position
    }

    /// The first byte of the next value, without consuming it.
    package mutating func peekValue() -> UInt8? {
        skipWhitespace()
        return peek()
    }

    /// The next value if it is `true` or `false`; `nil` for null; anything else throws.
    package mutating func readOptionalBool() throws -> Bool? {
        if readNull() { return nil }
        switch peekValue() {
        case UInt8(ascii: "t"): try literal("true"); return true
        case UInt8(ascii: "f"): try literal("false"); return false
        default: throw Malformed()
        }
    }

    /// The next value if it is a number; `nil` for null; anything else throws.
    package mutating func readOptionalNumber() throws -> Double? {
        if readNull() { return nil }
        guard let first = peekValue(), first == UInt8(ascii: "-") || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
        else { throw Malformed() }
        let start = position
        try skipNumber()
        guard let number = Double(String(decoding: bytes[start..<position], as: UTF8.self)) else { throw Malformed() }
        return number
    }

    /// True if the next value is a string (nothing is consumed).
    package mutating func nextIsString() -> Bool {
        skipWhitespace()
        return peek() == UInt8(ascii: "\"")
    }

    /// The next value if it is a string, `nil` if it is null; anything else is skipped and gives `nil`.
    package mutating func readOptionalString() throws -> String? {
        skipWhitespace()
        if peek() == UInt8(ascii: "\"") { return try readString() }
        try skipValue()
        return nil
    }

    /// The next value if it is a whole number; anything else is skipped and gives `nil`.
    package mutating func readOptionalInt() throws -> Int? {
        skipWhitespace()
        let start = position
        try skipValue()
        return Int(String(decoding: bytes[start..<position], as: UTF8.self))
    }

    package mutating func readString() throws -> String {
        String(decoding: try readStringBytes(), as: UTF8.self)
    }

    /// The next value's bytes if it is a string, its escapes decoded: a slice of the input when it has none.
    private mutating func readStringBytes() throws -> ArraySlice<UInt8> {
        skipWhitespace()
        try expect(UInt8(ascii: "\""))
        let start = position
        // Fast path: no escapes.
        position = Self.plainRunEnd(bytes, from: start)
        if position < bytes.count && bytes[position] == UInt8(ascii: "\"") {
            position += 1
            return bytes[start..<(position - 1)]
        }
        if position < bytes.count && bytes[position] < 0x20 { throw Malformed() }
        var scalars = Array(bytes[start..<position])
        while true {
            guard let byte = take() else { throw Malformed() }
            switch byte {
            case UInt8(ascii: "\""):
                return scalars[...]
            case UInt8(ascii: "\\"):
                guard let escaped = take() else { throw Malformed() }
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escaped)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = Unicode.Scalar(try readEscapedCode()) else { throw Malformed() }
                    scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    throw Malformed()
                }
            default:
                if byte < 0x20 { throw Malformed() }
                scalars.append(byte)
            }
        }
    }

    /// The code point of a `\u` escape whose `\u` has been read: a surrogate pair read whole, a lone surrogate refused.
    private mutating func readEscapedCode() throws -> UInt32 {
        let code = try readHex4()
        if (0xD800..<0xDC00).contains(code) {
            // A high surrogate must be followed by an escaped low one.
            guard take() == UInt8(ascii: "\\"), take() == UInt8(ascii: "u") else { throw Malformed() }
            let low = try readHex4()
            guard (0xDC00..<0xE000).contains(low) else { throw Malformed() }
            return 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        }
        guard !(0xDC00..<0xE000).contains(code) else { throw Malformed() }
        return code
    }

    /// Skips a string, checked as ``readString()`` checks it, without making it.
    private mutating func skipString() throws {
        try expect(UInt8(ascii: "\""))
        while true {
            position = Self.plainRunEnd(bytes, from: position)
            guard let byte = take() else { throw Malformed() }
            switch byte {
            case UInt8(ascii: "\""):
                return
            case UInt8(ascii: "\\"):
                switch take() {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    continue
                case UInt8(ascii: "u"):
                    _ = try readEscapedCode()
                default:
                    throw Malformed()
                }
            default:
                throw Malformed()  // A control character.
            }
        }
    }

    /// The index of the first byte from `start` on that ends a string's plain run: a quote, a backslash or a
    /// control character (or the end of the input), looked for eight bytes at a time.
    private static func plainRunEnd(_ bytes: [UInt8], from start: Int) -> Int {
        bytes.withUnsafeBufferPointer { JSONText.plainRunEnd($0, from: start, stoppingAtE2: false) }
    }

    /// Skips an object, its keys and values checked but not made.
    private mutating func skipObject() throws {
        try readMembers { scanner in
            try scanner.skipString()
            try scanner.expect(UInt8(ascii: ":"))
            try scanner.skipValue()
        }
    }

    /// Skips one value of any kind.
    package mutating func skipValue() throws {
        skipWhitespace()
        guard let byte = peek() else { throw Malformed() }
        switch byte {
        case UInt8(ascii: "{"): try skipObject()
        case UInt8(ascii: "["): try readArray { scanner in try scanner.skipValue() }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: try skipNumber()
        }
    }

    /// Skips a number written as RFC 8259 allows: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    /// A number too large for a `Double` (`2e6666`) is refused, as Foundation's parser refuses it.
    private mutating func skipNumber() throws {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), isDigit(first) else { throw Malformed() }
        let integerStart = position
        position += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        // Only a long integer part or a three-digit exponent can leave a Double's range: the parse is kept off
        // the common path.
        var mayOverflow = position - integerStart > 308
        if peek() == UInt8(ascii: ".") {
            position += 1
            guard let next = peek(), isDigit(next) else { throw Malformed() }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let next = peek(), isDigit(next) else { throw Malformed() }
            let exponentStart = position
            skipDigits()
            mayOverflow = mayOverflow || position - exponentStart > 2
        }
        guard !mayOverflow || Double(String(decoding: bytes[start..<position], as: UTF8.self))?.isFinite == true else {
            throw Malformed(reason: "a number in the request body is too large")
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func skipDigits() {
        while let next = peek(), isDigit(next) { position += 1 }
    }

    private mutating func enterContainer() throws {
        depth += 1
        guard depth <= Self.maxDepth else {
            throw Malformed(reason: "the request body is nested more than \(Self.maxDepth) levels deep")
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw Malformed() }
        for index in 0..<count where bytes[position + index] != word.utf8Start[index] { throw Malformed() }
        position += count
    }

    private mutating func readHex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = take() else { throw Malformed() }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Malformed()
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    @inline(__always) private mutating func skipWhitespace() {
        // Most values follow their separator directly: one comparison, no call.
        guard position < bytes.count, bytes[position] <= 0x20 else { return }
        skipWhitespaceRun()
    }

    private mutating func skipWhitespaceRun() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    @inline(__always) private mutating func expect(_ byte: UInt8) throws {
        skipWhitespace()
        guard take() == byte else { throw Malformed() }
    }

    private func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func take() -> UInt8? {
        guard position < bytes.count else { return nil }
        defer { position += 1 }
        return bytes[position]
    }
}

/// An object's key as ``JSONScanner`` read it (escapes decoded): compared with literals (`case "model":`,
/// `key == "usage"`) without making a string of it; ``string`` makes one where it is kept or shown.
package struct JSONKey: Hashable, Sendable, CustomStringConvertible {
    package let bytes: ArraySlice<UInt8>

    package var string: String { String(decoding: bytes, as: UTF8.self) }
    package var description: String { string }

    package static func == (key: JSONKey, literal: StaticString) -> Bool {
        guard key.bytes.count == literal.utf8CodeUnitCount else { return false }
        return key.bytes.withUnsafeBufferPointer { bytes in
            for index in 0..<bytes.count where bytes[index] != literal.utf8Start[index] { return false }
            return true
        }
    }

    package static func != (key: JSONKey, literal: StaticString) -> Bool { !(key == literal) }

    /// What lets a `switch` over a key take string literals as its cases.
    package static func ~= (literal: StaticString, key: JSONKey) -> Bool { key == literal }
}
