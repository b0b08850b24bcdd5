import Foundation
import GRDB
import ParleyCore

/// Ratings of assistant messages, one per user and message.
extension SQLiteConversationStore {
    public func setFeedback(messageID: UUID, owner: UserID, rating: Int, comment: String?) async throws -> Feedback {
        guard rating == 1 || rating == -1 else { throw ParleyError.invalid("rating must be 1 or -1") }
        let now = Date()
        let role = try await write { db -> String? in
            guard let role = try String.fetchOne(db, sql: """
                SELECT m.role FROM messages m JOIN conversations c ON c.id = m.conversation_id
                WHERE m.id = ? AND c.owner_id = ?
                """, arguments: [messageID.lowercased, owner.rawValue]) else { return nil }
            guard role == Role.assistant.rawValue else { return role }
            try db.execute(sql: """
                INSERT INTO feedback (message_id, user_id, rating, comment, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (message_id, user_id) DO UPDATE SET
                    rating = excluded.rating, comment = excluded.comment, updated_at = excluded.updated_at
                """, arguments: [messageID.lowercased, owner.rawValue, rating, comment, now.millis])
            return role
        }
        guard let role else { throw ParleyError.notFound("no message with id \(messageID.lowercased)") }
        guard role == Role.assistant.rawValue else {
            throw ParleyError.invalid("feedback can only be given on assistant messages")
        }
        return Feedback(rating: rating, comment: comment, updatedAt: Date(millis: now.millis))
    }

    public func deleteFeedback(messageID: UUID, owner: UserID) async throws {
        let found = try await write { db -> Bool in
            guard try Bool.fetchOne(db, sql: """
                SELECT 1 FROM messages m JOIN conversations c ON c.id = m.conversation_id
                WHERE m.id = ? AND c.owner_id = ?
                """, arguments: [messageID.lowercased, owner.rawValue]) != nil else { return false }
            try db.execute(sql: "DELETE FROM feedback WHERE message_id = ? AND user_id = ?",
                           arguments: [messageID.lowercased, owner.rawValue])
            return true
        }
        if !found { throw ParleyError.notFound("no message with id \(messageID.lowercased)") }
    }
}
