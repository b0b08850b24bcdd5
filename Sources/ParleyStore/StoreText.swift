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
