import Foundation

/// The text form of ``BusNotice``s for buses that carry strings (PostgreSQL NOTIFY, Redis pub/sub).
///
/// One notice per line: `p <id> <offset> <text>`, `c <id>`, `f <id>`, `s <id>`, and `a <user> <ends>` for accounts
/// (`-` nothing, `s` sessions, `*` everything, or a credential's id), where the text escapes
/// backslash, newline and NUL. Notices are packed into payloads of at most `maxPayloadBytes` (PostgreSQL
/// refuses NOTIFY payloads of 8,000 bytes or more); a progress notice too large to fit becomes `changed`, which
/// tells followers to read the text from the store.
public enum BusNoticeCoding {
    public static func encode(_ notices: [BusNotice], maxPayloadBytes: Int = 7_900) -> [String] {
        var payloads: [String] = []
        var current = ""
        for notice in notices {
            var line = self.line(for: notice)
            if line.utf8.count > maxPayloadBytes, case .progress(let id, _, _) = notice {
                line = self.line(for: .changed(messageID: id))
            }
            if !current.isEmpty, current.utf8.count + 1 + line.utf8.count > maxPayloadBytes {
                payloads.append(current)
                current = ""
            }
            current += current.isEmpty ? line : "\n" + line
        }
        if !current.isEmpty { payloads.append(current) }
        return payloads
    }

    /// The notices in a payload; lines that do not parse are skipped.
    public static func decode(_ payload: String) -> [BusNotice] {
        payload.split(separator: "\n", omittingEmptySubsequences: true).compactMap(notice(from:))
    }

    private static func line(for notice: BusNotice) -> String {
        switch notice {
        case .progress(let id, let offset, let text): return "p \(id.lowercased) \(offset) \(escape(text))"
        case .changed(let id): return "c \(id.lowercased)"
        case .finished(let id): return "f \(id.lowercased)"
        case .stop(let id): return "s \(id.lowercased)"
        case .account(let user, let ends): return "a \(user.rawValue) \(code(for: ends))"
        }
    }

    private static func code(for ends: SignOutScope) -> String {
        switch ends {
        case .nothing: return "-"
        case .sessions: return "s"
        case .everything: return "*"
        case .credential(let id): return id.lowercased
        }
    }

    private static func notice(from line: Substring) -> BusNotice? {
        let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        if parts.count == 3, parts[0] == "a", !parts[1].isEmpty, parts[1].utf8.count <= 64 {
            let ends: SignOutScope
            switch parts[2] {
            case "-": ends = .nothing
            case "s": ends = .sessions
            case "*": ends = .everything
            default:
                guard let id = UUID(text: parts[2]) else { return nil }
                ends = .credential(id)
            }
            return .account(UserID(String(parts[1])), ends: ends)
        }
        guard parts.count >= 2, let id = UUID(text: parts[1]) else { return nil }
        switch parts[0] {
        case "p":
            guard parts.count == 4, let offset = CheckedNumber.integer(parts[2], in: 0...CheckedNumber.wholeLimit) else { return nil }
            return .progress(messageID: id, offset: offset, text: unescape(parts[3]))
        case "c": return .changed(messageID: id)
        case "f": return .finished(messageID: id)
        case "s": return .stop(messageID: id)
        default: return nil
        }
    }

    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\n") || $0 == 0 }) else {
            return text
        }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\u{0}": result += "\\0"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    static func unescape(_ text: Substring) -> String {
        guard text.contains("\\") else { return String(text) }
        var result = ""
        var escaping = false
        for scalar in text.unicodeScalars {
            if escaping {
                switch scalar {
                case "n": result += "\n"
                case "0": result += "\u{0}"
                default: result.unicodeScalars.append(scalar)
                }
                escaping = false
            } else if scalar == "\\" {
                escaping = true
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
