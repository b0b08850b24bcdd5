import Foundation
import ParleyCore
import PostgresNIO

/// Ratings of assistant messages, one per user and message.
extension PostgresConversationStore {
    public func setFeedback(messageID: UUID, owner: UserID, rating: Int, comment: String?) async throws -> Feedback {
        guard rating == 1 || rating == -1 else { throw ParleyError.invalid("rating must be 1 or -1") }
        let now = Date(millis: Date().millis)
        let role = try await perform {
            try await client.withTransaction(logger: logger) { connection -> String? in
                var role: String?
                let rows = try await connection.query("""
                    SELECT m.role FROM messages m JOIN conversations c ON c.id = m.conversation_id
                    WHERE m.id = \(messageID) AND c.owner_id = \(owner.rawValue)
                    """, logger: logger)
                for try await found in rows.decode(String.self) { role = found }
                guard let role, role == Role.assistant.rawValue else { return role }
                try await connection.query("""
                    INSERT INTO feedback (message_id, user_id, rating, comment, updated_at)
                    VALUES (\(messageID), \(owner.rawValue), \(rating), \(comment), \(now.millis))
                    ON CONFLICT (message_id, user_id) DO UPDATE SET
                        rating = EXCLUDED.rating, comment = EXCLUDED.comment, updated_at = EXCLUDED.updated_at
                    """, logger: logger)
                return role
            }
        }
        guard let role else { throw ParleyError.notFound("no message with id \(messageID.lowercased)") }
        guard role == Role.assistant.rawValue else {
            throw ParleyError.invalid("feedback can only be given on assistant messages")
        }
        return Feedback(rating: rating, comment: comment, updatedAt: now)
    }

    public func deleteFeedback(messageID: UUID, owner: UserID) async throws {
        let found = try await perform {
            try await client.withTransaction(logger: logger) { connection -> Bool in
                let rows = try await connection.query("""
                    SELECT 1 FROM messages m JOIN conversations c ON c.id = m.conversation_id
                    WHERE m.id = \(messageID) AND c.owner_id = \(owner.rawValue)
                    """, logger: logger).collect()
                guard !rows.isEmpty else { return false }
                try await connection.query(
                    "DELETE FROM feedback WHERE message_id = \(messageID) AND user_id = \(owner.rawValue)", logger: logger)
                return true
            }
        }
        if !found { throw ParleyError.notFound("no message with id \(messageID.lowercased)") }
    }
}
