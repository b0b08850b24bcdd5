/// How text occupies a terminal: columns per character, and what may be written to one safely.
public enum TerminalText {
    /// The columns `character` takes: 2 for East Asian wide characters and emoji, 0 for a lone combining mark,
    /// 1 otherwise. Control characters are not measured here (``visible(_:)`` replaces them first).
    public static func columns(_ character: Character) -> Int {
        guard let first = character.unicodeScalars.first else { return 0 }
        if character.unicodeScalars.contains("\u{FE0F}") { return 2 }
        if first.properties.isEmojiPresentation { return 2 }
        if isWide(first.value) { return 2 }
        if first.properties.generalCategory == .nonspacingMark || first.properties.generalCategory == .enclosingMark {
            return 0
        }
        return 1
    }

    /// The columns `text` takes on one row.
    public static func columns(of text: some Sequence<Character>) -> Int {
        text.reduce(0) { $0 + columns($1) }
    }

    /// What to show for `character` so that nothing it contains acts on the terminal: control characters (an
    /// escape sequence in a model's answer could retitle the window, move the cursor or worse) become `^X`
    /// (`^?` for DEL, `�` for the C1 controls). A tab becomes four spaces so that widths stay known.
    public static func visible(_ character: Character) -> String {
        guard character.unicodeScalars.count == 1, let scalar = character.unicodeScalars.first else {
            // A cluster such as "\r\n".
            return character.unicodeScalars.contains { isControl($0) } ? character.unicodeScalars.map { visible(Character($0)) }.joined() : String(character)
        }
        switch scalar.value {
        case 0x09: return "    "
        case 0x00..<0x20: return "^" + String(UnicodeScalar(UInt8(scalar.value) + 0x40))
        case 0x7F: return "^?"
        case 0x80..<0xA0: return "\u{FFFD}"
        default: return String(character)
        }
    }

    /// `text` with every control character but the line feed made ``visible(_:)``.
    public static func safe(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { isControl($0) && $0 != "\n" }) else { return text }
        var result = ""
        for character in text {
            result += character == "\n" || character == "\r\n" ? "\n" : visible(character)
        }
        return result
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value)
    }

    /// East Asian Wide and Fullwidth blocks (Unicode's EastAsianWidth W and F, by block).
    static func isWide(_ value: UInt32) -> Bool {
        switch value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
             0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60,
             0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return true
        default:
            return false
        }
    }
}
