import Foundation
import ParleyCore
import PostgresNIO

/// Shared links in PostgreSQL: one row each, tied to its conversation (deleted with it), found by the token's digest.
extension PostgresConversationStore: ConversationShareStore {
    public func createShare(conversationID: UUID, owner: UserID, audience: ShareAudience, tokenDigest: String,
                            maxPerConversation: Int) async throws -> ConversationShare {
        let now = Date(millis: Date().millis)
        let outcome = try await perform {
            try await client.withTransaction(logger: logger) { connection -> Result<ConversationShare, ParleyError> in
                // The conversation's row is locked, so two links made at once count each other.
                let owned = try await connection.query(
                    "SELECT 1 FROM conversations WHERE id = \(conversationID) AND owner_id = \(owner.rawValue) FOR UPDATE",
                    logger: logger).collect()
                guard !owned.isEmpty else { return .failure(SQLiteConversationStore.noConversation(conversationID)) }
                let counted = try await connection.query("""
                    SELECT (SELECT max(idx) FROM messages WHERE conversation_id = \(conversationID)),
                           (SELECT count(*)::bigint FROM conversation_shares WHERE conversation_id = \(conversationID))
                    """, logger: logger).collect()
                let (last, count) = try counted.first?.decode((Int32?, Int64).self) ?? (Int32?.none, Int64(0))
                guard let last else { return .failure(SQLiteConversationStore.nothingToShare) }
                guard count < maxPerConversation else { return .failure(SQLiteConversationStore.tooManyShares(maxPerConversation)) }
                let share = ConversationShare(id: .v7(now: now), conversationID: conversationID, audience: audience,
                                              throughIndex: Int(last), createdAt: now)
                try await connection.query("""
                    INSERT INTO conversation_shares (id, conversation_id, token_digest, audience, through_idx, created_at)
                    VALUES (\(share.id), \(conversationID), \(tokenDigest), \(audience.rawValue), \(Int32(last)), \(now.millis))
                    """, logger: logger)
                return .success(share)
            }
        }
        return try outcome.get()
    }

    public func shares(conversationID: UUID, owner: UserID) async throws -> [ConversationShare] {
        let rows = try await perform {
            try await client.query("""
                SELECT s.*, c.id AS owned FROM conversations c
                LEFT JOIN conversation_shares s ON s.conversation_id = c.id
                WHERE c.id = \(conversationID) AND c.owner_id = \(owner.rawValue)
                ORDER BY s.created_at DESC, s.id DESC
                """, logger: logger).collect()
        }
        guard !rows.isEmpty else { throw SQLiteConversationStore.noConversation(conversationID) }
        return try rows.filter { try $0.makeRandomAccess()["id"].decode(UUID?.self) != nil }.map(Self.share(from:))
    }

    public func deleteShare(id: UUID, conversationID: UUID, owner: UserID) async throws {
        let rows = try await perform {
            try await client.query("""
                DELETE FROM conversation_shares s USING conversations c
                WHERE s.id = \(id) AND s.conversation_id = \(conversationID) AND c.id = s.conversation_id AND c.owner_id = \(owner.rawValue)
                RETURNING s.id
                """, logger: logger).collect()
        }
        guard !rows.isEmpty else { throw SQLiteConversationStore.noShare(id) }
    }

    public func sharedConversation(tokenDigest: String) async throws -> SharedConversation {
        let rows = try await perform {
            try await client.query("""
                SELECT s.*, c.owner_id, c.title FROM conversation_shares s JOIN conversations c ON c.id = s.conversation_id
                WHERE s.token_digest = \(tokenDigest)
                """, logger: logger).collect()
        }
        guard let row = rows.first else { throw SQLiteConversationStore.noSharedLink }
        let columns = row.makeRandomAccess()
        return SharedConversation(share: try Self.share(from: row), ownerID: UserID(try columns["owner_id"].decode(String.self)),
                                  title: try columns["title"].decode(String.self))
    }

    static func share(from row: PostgresRow) throws -> ConversationShare {
        let columns = row.makeRandomAccess()
        return ConversationShare(id: try columns["id"].decode(UUID.self), conversationID: try columns["conversation_id"].decode(UUID.self),
                                 audience: ShareAudience(rawValue: try columns["audience"].decode(String.self)) ?? .signedIn,
                                 throughIndex: Int(try columns["through_idx"].decode(Int32.self)),
                                 createdAt: Date(millis: try columns["created_at"].decode(Int64.self)))
    }
}
