/// Minimal, fast JSON text helpers for hot paths (per-token events) where a JSONEncoder is too slow.
enum JSONText {
    /// `text` as a JSON string literal, quotes included.
    static func quote(_ text: String) -> String {
        var result = "\""
        result.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{2028}": result += "\\u2028"
            case "\u{2029}": result += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        result += "\""
        return result
    }
}

/// Builds one JSON object as text, leaving out absent optional fields.
struct JSONObjectText {
    private(set) var text = "{"
    private var empty = true

    private mutating func key(_ name: StaticString) {
        if !empty { text += "," }
        empty = false
        text += "\""
        text += name.description
        text += "\":"
    }

    mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        text += JSONText.quote(value)
    }

    mutating func field(_ name: StaticString, _ value: Int?) {
        guard let value else { return }
        key(name)
        text += String(value)
    }

    mutating func field(_ name: StaticString, _ value: Bool) {
        key(name)
        text += value ? "true" : "false"
    }

    /// A value that is already JSON text.
    mutating func field(_ name: StaticString, json: String?) {
        guard let json else { return }
        key(name)
        text += json
    }

    var closed: String { text + "}" }
}
