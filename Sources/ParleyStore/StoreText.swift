import Foundation
import ParleyCore

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
    /// A turn's title: its text's, or for a message of attachments alone, the first one's name.
    static func title(from content: String, attachments: [AttachmentReference]) -> String {
        let own = title(from: content)
        return own.isEmpty ? title(from: attachments.first?.name ?? "") : own
    }

    /// The first line of `content` with text (Markdown's heading, quote and bullet marks taken off; a code fence's
    /// line skipped), or all of it trimmed when no line qualifies; at most 80 characters. Lines are looked at only
    /// until one qualifies, so a long message costs no more than a short one.
    static func title(from content: String) -> String {
        var rest = content[...]
        while !rest.isEmpty {
            let end = rest.firstIndex(where: \.isNewline) ?? rest.endIndex
            let line = titleLine(rest[..<end])
            if !line.isEmpty && !line.hasPrefix("```") && !line.hasPrefix("~~~") { return shortened(line) }
            rest = end == rest.endIndex ? rest[end...] : rest[rest.index(after: end)...]
        }
        return shortened(trimmed(content[...]))
    }

    private static func titleLine(_ line: Substring) -> Substring {
        var text = trimmed(line)
        while let marker = text.first, marker == "#" || marker == ">" { text = text.dropFirst().drop { $0 == " " } }
        if let bullet = text.first, bullet == "-" || bullet == "*" || bullet == "+", text.dropFirst().first == " " {
            text = text.dropFirst(2)
        }
        return trimmed(text)
    }

    /// `text` without the white space at either end (spaces, tabs and, in a whole message, line breaks).
    private static func trimmed(_ text: Substring) -> Substring {
        guard let first = text.firstIndex(where: { !$0.isWhitespace }) else { return text[text.endIndex...] }
        let last = text.lastIndex { !$0.isWhitespace }!
        return text[first...last]
    }

    private static func shortened(_ text: Substring) -> String {
        text.count > 80 ? String(text.prefix(79)) + "…" : String(text)
    }

    /// The condition on `messages` that ``ConversationStore/reopenAnswer(id:owner:lease:)`` reopens under: the
    /// owner's answer, finished, with nothing after it in its conversation. `id` and `owner` are placeholders.
    static func reopenableAnswer(id: String, owner: String) -> String {
        """
        id = \(id) AND role = 'assistant' AND status <> 'streaming' AND active
            AND conversation_id IN (SELECT c.id FROM conversations c WHERE c.owner_id = \(owner))
            AND NOT EXISTS (SELECT 1 FROM messages later
                            WHERE later.conversation_id = messages.conversation_id AND later.active
                              AND later.idx > messages.idx)
        """
    }

    /// A column list without its `m.` table qualifiers (for `RETURNING`, which names the updated table's own).
    static func unqualified(_ columns: String) -> String {
        columns.replacingOccurrences(of: "m.", with: "")
    }

    /// Why an answer the owner can read could not be reopened.
    static func whyNotReopenable(_ message: Message) -> ParleyError {
        if message.role != .assistant { return .conflict("only an answer can be continued; this is a \(message.role.rawValue) message") }
        if message.status == .streaming { return .conflict("the answer is still being written") }
        if !message.onActiveBranch { return .conflict("only an answer on the active branch can be continued") }
        return .conflict("only the newest answer of a conversation can be continued")
    }
}
