import Foundation
import GRDB
import ParleyCore

/// Shared links in SQLite: one row each, tied to its conversation (deleted with it), found by the token's digest.
extension SQLiteConversationStore: ConversationShareStore {
    public func createShare(conversationID: UUID, owner: UserID, audience: ShareAudience, tokenDigest: String,
                            maxPerConversation: Int) async throws -> ConversationShare {
        let now = Date(millis: Date().millis)
        let outcome = try await write { db -> Result<ConversationShare, ParleyError> in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM conversations WHERE id = ? AND owner_id = ?",
                                    arguments: [conversationID.lowercased, owner.rawValue]) != nil else {
                return .failure(Self.noConversation(conversationID))
            }
            guard let last = try Int.fetchOne(db, sql: "SELECT max(idx) FROM messages WHERE conversation_id = ?",
                                              arguments: [conversationID.lowercased]) else {
                return .failure(Self.nothingToShare)
            }
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM conversation_shares WHERE conversation_id = ?",
                                         arguments: [conversationID.lowercased]) ?? 0
            guard count < maxPerConversation else { return .failure(Self.tooManyShares(maxPerConversation)) }
            let share = ConversationShare(id: .v7(now: now), conversationID: conversationID, audience: audience,
                                          throughIndex: last, createdAt: now)
            try db.execute(sql: """
                INSERT INTO conversation_shares (id, conversation_id, token_digest, audience, through_idx, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [share.id.lowercased, conversationID.lowercased, tokenDigest, audience.rawValue, last, now.millis])
            return .success(share)
        }
        return try outcome.get()
    }

    public func shares(conversationID: UUID, owner: UserID) async throws -> [ConversationShare] {
        let found = try await read { db -> [ConversationShare]? in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM conversations WHERE id = ? AND owner_id = ?",
                                    arguments: [conversationID.lowercased, owner.rawValue]) != nil else { return nil }
            return try Row.fetchAll(db, sql: """
                SELECT * FROM conversation_shares WHERE conversation_id = ? ORDER BY created_at DESC, id DESC
                """, arguments: [conversationID.lowercased]).map(Self.share(from:))
        }
        guard let found else { throw Self.noConversation(conversationID) }
        return found
    }

    public func deleteShare(id: UUID, conversationID: UUID, owner: UserID) async throws {
        let deleted = try await write { db -> Bool in
            try db.execute(sql: """
                DELETE FROM conversation_shares WHERE id = ? AND conversation_id = ?
                AND conversation_id IN (SELECT id FROM conversations WHERE id = ? AND owner_id = ?)
                """, arguments: [id.lowercased, conversationID.lowercased, conversationID.lowercased, owner.rawValue])
            return db.changesCount > 0
        }
        guard deleted else { throw Self.noShare(id) }
    }

    public func sharedConversation(tokenDigest: String) async throws -> SharedConversation {
        let found = try await read { db -> SharedConversation? in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT s.*, c.owner_id, c.title FROM conversation_shares s JOIN conversations c ON c.id = s.conversation_id
                WHERE s.token_digest = ?
                """, arguments: [tokenDigest]) else { return nil }
            return SharedConversation(share: try Self.share(from: row), ownerID: UserID(row["owner_id"] as String), title: row["title"])
        }
        guard let found else { throw Self.noSharedLink }
        return found
    }

    static func share(from row: Row) throws -> ConversationShare {
        ConversationShare(id: try uuid(row, "id"), conversationID: try uuid(row, "conversation_id"),
                          audience: ShareAudience(rawValue: row["audience"]) ?? .signedIn, throughIndex: row["through_idx"],
                          createdAt: Date(millis: row["created_at"]))
    }

    static func noConversation(_ id: UUID) -> ParleyError { .notFound("no conversation with id \(id.lowercased)") }
    static func noShare(_ id: UUID) -> ParleyError { .notFound("no shared link with id \(id.lowercased)") }
    static let noSharedLink = ParleyError.notFound("no conversation is shared at this link (it may have been revoked)")
    static let nothingToShare = ParleyError.conflict("the conversation has no messages to share yet")
    static func tooManyShares(_ limit: Int) -> ParleyError { .conflict("a conversation may have at most \(limit) shared links; revoke one first") }
}
