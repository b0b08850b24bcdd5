/// Minimal, fast JSON text helpers for hot paths (per-token events) where a JSONEncoder is too slow.
public enum JSONText {
    /// `text` as a JSON string literal, quotes included. U+2028 and U+2029 are escaped too, so the text is
    /// also safe inside JavaScript.
    public static func quote(_ text: String) -> String {
        needsEscaping(text) ? escaped(text) : "\"" + text + "\""
    }

    /// Appends `text` as a JSON string literal (as ``quote(_:)`` makes it) to `output`, with no string of its own
    /// when nothing needs escaping: the per-token events are written this way.
    public static func appendQuoted(_ text: String, to output: inout String) {
        if needsEscaping(text) {
            output += escaped(text)
            return
        }
        output += "\""
        output += text
        output += "\""
    }

    private static func needsEscaping(_ text: String) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0xE2 }
        } ?? true
    }

    private static func escaped(_ text: String) -> String {
        var utf8 = text.utf8
        var output: [UInt8] = [0x22]
        output.reserveCapacity(utf8.count + 16)
        let hex = Array("0123456789abcdef".utf8)
        var bytes = Array(utf8)
        utf8 = "".utf8
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case 0x22: output += [0x5C, 0x22]
            case 0x5C: output += [0x5C, 0x5C]
            case 0x0A: output += [0x5C, UInt8(ascii: "n")]
            case 0x0D: output += [0x5C, UInt8(ascii: "r")]
            case 0x09: output += [0x5C, UInt8(ascii: "t")]
            case 0x00..<0x20:
                output += [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            case 0xE2 where index + 2 < bytes.count && bytes[index + 1] == 0x80 && (bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9):
                output += Array("\\u202".utf8) + [bytes[index + 2] == 0xA8 ? UInt8(ascii: "8") : UInt8(ascii: "9")]
                index += 2
            default:
                output.append(byte)
            }
            index += 1
        }
        bytes.removeAll()
        output.append(0x22)
        return String(decoding: output, as: UTF8.self)
    }
}

/// Builds one JSON object as text, leaving out absent optional fields.
public struct JSONObjectText {
    public init() {}

    public private(set) var text = "{"
    private var empty = true

    private mutating func key(_ name: StaticString) {
        if !empty { text += "," }
        empty = false
        text += "\""
        text += name.description
        text += "\":"
    }

    public mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        text += JSONText.quote(value)
    }

    public mutating func field(_ name: StaticString, _ value: Int?) {
        guard let value else { return }
        key(name)
        text += String(value)
    }

    public mutating func field(_ name: StaticString, _ value: Bool) {
        key(name)
        text += value ? "true" : "false"
    }

    /// A value that is already JSON text.
    public mutating func field(_ name: StaticString, json: String?) {
        guard let json else { return }
        key(name)
        text += json
    }

    public var closed: String { text + "}" }
}
