import Foundation

/// Minimal, fast JSON text helpers for hot paths (per-token events, every message an event carries) where a
/// JSONEncoder is too slow. They write UTF-8 bytes: appending to a `String` piece by piece costs far more per piece
/// than appending to an array of bytes.
public enum JSONText {
    /// `text` as a JSON string literal, quotes included. U+2028 and U+2029 are escaped too, so the text is
    /// also safe inside JavaScript.
    public static func quote(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 2)
        appendQuoted(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `text` as a JSON string literal (as ``quote(_:)`` makes it) to `output`: the runs that need no
    /// escaping are found eight bytes at a time and copied whole.
    public static func appendQuoted(_ text: String, to output: inout [UInt8]) {
        output.append(Byte.quote)
        var text = text
        text.withUTF8 { bytes in
            var runStart = 0
            var index = 0
            while true {
                index = plainRunEnd(bytes, from: index, stoppingAtE2: true)
                guard index < bytes.count else { break }
                let byte = bytes[index]
                // U+2028 and U+2029 are E2 80 A8 and E2 80 A9; any other character starting with E2 is copied.
                let separator = byte == 0xE2 && index + 2 < bytes.count && bytes[index + 1] == 0x80
                    && (bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9)
                if byte == 0xE2 && !separator {
                    index += 1
                    continue
                }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                if separator {
                    appendEscape(code: bytes[index + 2] == 0xA8 ? 0x2028 : 0x2029, to: &output)
                    index += 3
                } else {
                    appendEscape(code: UInt32(byte), to: &output)
                    index += 1
                }
                runStart = index
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        }
        output.append(Byte.quote)
    }

    /// The index of the first byte at or after `start` that a JSON string cannot hold as it is: a quote, a
    /// backslash or a control character, and with `stoppingAtE2` also 0xE2, the first byte of U+2028 and U+2029
    /// (`bytes.count` if there is none). The first eight bytes are looked at one by one (most strings a scanner
    /// meets, keys and tokens, end there); then eight at a step: whether a 64-bit word holds such a byte is found
    /// with a subtraction and a mask (exact for the word), and only a word that holds one is looked at byte by byte.
    /// Inlinable: the scanner calls it for every string, where a call would cost more than the look.
    @inlinable
    public static func plainRunEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, stoppingAtE2: Bool) -> Int {
        func stops(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x22 || byte == 0x5C || (stoppingAtE2 && byte == 0xE2) }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        // Whether a byte of `word` is below `limit` (at most 0x80): a borrow sets the high bit of such a byte.
        func hasByte(below limit: UInt64, in word: UInt64) -> Bool { (word &- ones &* limit) & ~word & highs != 0 }
        var index = start
        let firstEight = min(start + 8, bytes.count)
        while index < firstEight {
            if stops(bytes[index]) { return index }
            index += 1
        }
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            while index + 8 <= bytes.count {
                let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                if hasByte(below: 0x20, in: word) || hasByte(below: 1, in: word ^ (ones &* 0x22))
                    || hasByte(below: 1, in: word ^ (ones &* 0x5C))
                    || (stoppingAtE2 && hasByte(below: 1, in: word ^ (ones &* 0xE2))) {
                    break
                }
                index += 8
            }
        }
        while index < bytes.count {
            if stops(bytes[index]) { return index }
            index += 1
        }
        return index
    }

    /// Appends `value` in decimal, a digit at a time from the most significant (most values here have a few digits:
    /// appending them one by one costs less than gathering them and appending the run).
    public static func appendDecimal(_ value: Int, to output: inout [UInt8]) {
        if value < 0 { output.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var place: UInt = 1
        while magnitude / place >= 10 { place *= 10 }
        repeat {
            output.append(UInt8(ascii: "0") + UInt8(magnitude / place))
            magnitude %= place
            place /= 10
        } while place > 0
    }

    /// The escape for one byte (`\n`, `\"`, `\u001f`) or one of the line separators (U+2028, U+2029).
    private static func appendEscape(code: UInt32, to output: inout [UInt8]) {
        output.append(Byte.backslash)
        switch code {
        case UInt32(Byte.quote): output.append(Byte.quote)
        case UInt32(Byte.backslash): output.append(Byte.backslash)
        case 0x0A: output.append(UInt8(ascii: "n"))
        case 0x0D: output.append(UInt8(ascii: "r"))
        case 0x09: output.append(UInt8(ascii: "t"))
        default:
            output.append(UInt8(ascii: "u"))
            for shift in stride(from: 12, through: 0, by: -4) { output.append(Hex.digit(UInt8((code >> UInt32(shift)) & 0xF))) }
        }
    }

    private enum Byte {
        static let quote = UInt8(ascii: "\"")
        static let backslash = UInt8(ascii: "\\")
    }
}

/// Builds one JSON object as text, leaving out absent optional fields.
public struct JSONObjectText {
    @usableFromInline var bytes: [UInt8]
    /// Where this object's `{` is in `bytes` (an object written inside another shares its bytes).
    @usableFromInline var start: Int

    public init() {
        bytes = []
        bytes.reserveCapacity(256)
        bytes.append(UInt8(ascii: "{"))
        start = 0
    }

    @usableFromInline mutating func key(_ name: StaticString) {
        if bytes.count > start + 1 { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    public mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        JSONText.appendQuoted(value, to: &bytes)
    }

    /// An identifier in its lowercase textual form.
    public mutating func field(_ name: StaticString, _ id: UUID?) {
        guard let id else { return }
        key(name)
        bytes.append(UInt8(ascii: "\""))
        id.appendLowercased(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func field(_ name: StaticString, _ value: Int?) {
        guard let value else { return }
        key(name)
        JSONText.appendDecimal(value, to: &bytes)
    }

    public mutating func field(_ name: StaticString, _ value: Bool) {
        key(name)
        let literal: StaticString = value ? "true" : "false"
        literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// A value that is already JSON text.
    public mutating func field(_ name: StaticString, json: String?) {
        guard var json else { return }
        key(name)
        json.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// An array of objects, one per element, each written by `write` straight into this object's bytes (inlinable,
    /// so it is specialized for the caller's sequence).
    @inlinable
    public mutating func field<Elements: Sequence>(_ name: StaticString, objects elements: Elements,
                                                   _ write: (Elements.Element, inout JSONObjectText) -> Void) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        var first = true
        for element in elements {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            var object = JSONObjectText(continuing: &self)
            write(element, &object)
            object.bytes.append(UInt8(ascii: "}"))
            swap(&bytes, &object.bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// An object opened at the end of `outer`'s bytes, which it takes over until it is closed (so they are not copied).
    @usableFromInline init(continuing outer: inout JSONObjectText) {
        bytes = []
        swap(&bytes, &outer.bytes)
        start = bytes.count
        bytes.append(UInt8(ascii: "{"))
    }

    /// The object, closed, as UTF-8 bytes (the builder is used up: its bytes are not copied).
    public consuming func closedBytes() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// The object, closed.
    public var closed: String {
        String(unsafeUninitializedCapacity: bytes.count + 1) { buffer in
            _ = buffer.initialize(from: bytes)
            buffer[bytes.count] = UInt8(ascii: "}")
            return bytes.count + 1
        }
    }
}
