import Foundation

/// Text rules shared by every store backend.
enum StoreText {
    /// The columns of a visitor's chat as its owner lists it, after `c.*` (the conversation): the request for a
    /// person and the visitor's ratings. Both databases read the same SQL.
    static let visitorChatColumns = """
        v.handoff_email, v.handoff_note, v.handoff_at,
            (SELECT count(*) FROM feedback f JOIN messages m ON m.id = f.message_id
             WHERE m.conversation_id = c.id AND f.rating > 0) AS thumbs_up,
            (SELECT count(*) FROM feedback f JOIN messages m ON m.id = f.message_id
             WHERE m.conversation_id = c.id AND f.rating < 0) AS thumbs_down
        """

    static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }

    /// A title made from the first user message: its first line with text, without the markdown that starts a
    /// heading, quote or list item (and skipping code fences), at most 80 characters.
    static func title(from content: String) -> String {
        let lines = content.split(whereSeparator: \.isNewline).map { line in
            var text = line.trimmingCharacters(in: .whitespaces)[...]
            while let marker = text.first, "#>".contains(marker) { text = text.dropFirst().drop { $0 == " " } }
            if let bullet = text.first, "-*+".contains(bullet), text.dropFirst().first == " " { text = text.dropFirst(2) }
            return text.trimmingCharacters(in: .whitespaces)
        }
        let first = lines.first { !$0.isEmpty && !$0.hasPrefix("```") && !$0.hasPrefix("~~~") }
            ?? content.trimmingCharacters(in: .whitespacesAndNewlines)
        return first.count > 80 ? String(first.prefix(79)) + "…" : first
    }
}
