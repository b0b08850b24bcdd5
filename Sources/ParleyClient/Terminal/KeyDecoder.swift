/// A key press (or a paste) read from a terminal in raw mode.
public enum Key: Equatable, Sendable {
    /// Characters typed.
    case text(String)
    /// Text pasted, whole (the terminal's bracketed paste), newlines included.
    case paste(String)
    /// Enter: submit.
    case enter
    /// Alt-Enter: a new line in the message.
    case newline
    case backspace, delete, tab, escape
    case left, right, up, down, home, end
    case wordLeft, wordRight, deleteWordBack
    /// Ctrl and a letter, the letter in lower case (`control("c")` is Ctrl-C).
    case control(Character)
    /// A sequence this client does not use.
    case unknown
}

/// Turns the bytes a terminal sends into ``Key``s: UTF-8 text, the VT/xterm sequences for arrows, Home, End,
/// Delete and Ctrl-arrows, Alt-Enter, and bracketed paste. A sequence split between two reads is completed by
/// the next one.
public struct KeyDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var pasting: [UInt8]?

    static let pasteStart: [UInt8] = Array("\u{1B}[200~".utf8)
    static let pasteEnd: [UInt8] = Array("\u{1B}[201~".utf8)

    public init() {}

    /// The keys in `bytes` (one read). A read that is a lone ESC is the Escape key; otherwise an ESC waits for
    /// the rest of its sequence.
    public mutating func feed(_ bytes: some Collection<UInt8>) -> [Key] {
        let lone = buffer.isEmpty && pasting == nil && bytes.count == 1 && bytes.first == 0x1B
        if lone { return [.escape] }
        buffer += bytes
        var keys: [Key] = []
        var text: [UInt8] = []
        func flushText() {
            if !text.isEmpty { keys.append(.text(String(decoding: text, as: UTF8.self))) }
            text = []
        }
        while !buffer.isEmpty {
            if pasting != nil {
                if let end = Self.find(Self.pasteEnd, in: buffer) {
                    pasting! += buffer[..<end]
                    buffer.removeFirst(end + Self.pasteEnd.count)
                    keys.append(.paste(String(decoding: pasting!, as: UTF8.self).replacingCRLF()))
                    pasting = nil
                } else {
                    // Keep what could be the start of the end marker.
                    let keep = min(buffer.count, Self.pasteEnd.count - 1)
                    pasting! += buffer.dropLast(keep)
                    buffer = Array(buffer.suffix(keep))
                    break
                }
                continue
            }
            let byte = buffer[0]
            switch byte {
            case 0x1B:
                flushText()
                guard let (key, length) = Self.escapeSequence(buffer) else { return keys }
                buffer.removeFirst(length)
                if Self.isPasteStart(key) {
                    pasting = []
                } else {
                    keys.append(key)
                }
            case 0x0D, 0x0A:
                flushText()
                keys.append(.enter)
                buffer.removeFirst()
            case 0x7F, 0x08:
                flushText()
                keys.append(.backspace)
                buffer.removeFirst()
            case 0x09:
                flushText()
                keys.append(.tab)
                buffer.removeFirst()
            case 0x00..<0x20:
                flushText()
                keys.append(.control(Character(UnicodeScalar(byte + 0x60))))
                buffer.removeFirst()
            default:
                let length = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                guard buffer.count >= length else { flushText(); return keys }
                text += buffer[..<length]
                buffer.removeFirst(length)
            }
        }
        flushText()
        return keys
    }

    private static func isPasteStart(_ key: Key) -> Bool { key == .text("\u{1B}[200~") }

    /// The key an ESC sequence at the start of `bytes` stands for, and its length; nil if it is not complete yet.
    static func escapeSequence(_ bytes: [UInt8]) -> (Key, Int)? {
        guard bytes.count >= 2 else { return nil }
        switch bytes[1] {
        case UInt8(ascii: "["):
            // CSI: parameters and intermediates (0x20–0x3F), then a final byte (0x40–0x7E).
            guard let final = bytes.dropFirst(2).firstIndex(where: { (0x40...0x7E).contains($0) }) else {
                return bytes.count > 32 ? (.unknown, bytes.count) : nil
            }
            let parameters = String(decoding: bytes[2..<final], as: UTF8.self)
            let length = final + 1
            switch (parameters, bytes[final]) {
            case ("200", UInt8(ascii: "~")): return (.text("\u{1B}[200~"), length)
            case (_, UInt8(ascii: "A")): return (.up, length)
            case (_, UInt8(ascii: "B")): return (.down, length)
            case ("1;5", UInt8(ascii: "C")), ("1;3", UInt8(ascii: "C")): return (.wordRight, length)
            case ("1;5", UInt8(ascii: "D")), ("1;3", UInt8(ascii: "D")): return (.wordLeft, length)
            case (_, UInt8(ascii: "C")): return (.right, length)
            case (_, UInt8(ascii: "D")): return (.left, length)
            case (_, UInt8(ascii: "H")), ("1", UInt8(ascii: "~")), ("7", UInt8(ascii: "~")): return (.home, length)
            case (_, UInt8(ascii: "F")), ("4", UInt8(ascii: "~")), ("8", UInt8(ascii: "~")): return (.end, length)
            case ("3", UInt8(ascii: "~")): return (.delete, length)
            default: return (.unknown, length)
            }
        case UInt8(ascii: "O"):
            guard bytes.count >= 3 else { return nil }
            let keys: [UInt8: Key] = [UInt8(ascii: "A"): .up, UInt8(ascii: "B"): .down, UInt8(ascii: "C"): .right,
                                      UInt8(ascii: "D"): .left, UInt8(ascii: "H"): .home, UInt8(ascii: "F"): .end]
            return (keys[bytes[2]] ?? .unknown, 3)
        case 0x0D, 0x0A:
            return (.newline, 2)
        case UInt8(ascii: "b"):
            return (.wordLeft, 2)
        case UInt8(ascii: "f"):
            return (.wordRight, 2)
        case 0x7F, 0x08:
            return (.deleteWordBack, 2)
        case 0x1B:
            return (.escape, 1)
        default:
            // Alt and a key this client does not use: skip both bytes (a UTF-8 lead byte's tail is text).
            return (.unknown, bytes[1] < 0x80 ? 2 : 1)
        }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}

extension String {
    /// Pasted text as a message holds it: CRLF and lone CR (what terminals send for a line break) become LF.
    func replacingCRLF() -> String {
        replacing("\r\n", with: "\n").replacing("\r", with: "\n")
    }
}
