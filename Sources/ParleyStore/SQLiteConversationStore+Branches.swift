import Foundation
import GRDB
import ParleyCore

/// Branches: the versions of a message, the whole tree, and switching the active branch.
extension SQLiteConversationStore {
    public func messageTree(conversationID: UUID, owner: UserID, after: Int, limit: Int) async throws -> MessagePage {
        let rows = try await read { db -> [Message]? in
            guard try Self.owns(db, conversationID: conversationID, owner: owner) else { return nil }
            return try Row.fetchAll(db, sql: """
                SELECT \(Self.messageColumns), f.rating, f.comment, f.updated_at
                FROM messages m LEFT JOIN feedback f ON f.message_id = m.id AND f.user_id = ?
                WHERE m.conversation_id = ? AND m.idx > ? ORDER BY m.idx LIMIT ?
                """, arguments: [owner.rawValue, conversationID.lowercased, after, limit + 1]).map(Self.message(from:))
        }
        guard let rows else { throw ParleyError.notFound("no conversation with id \(conversationID.lowercased)") }
        return MessagePage(messages: Array(rows.prefix(limit)), hasMore: rows.count > limit)
    }

    /// The page with the versions of each of its messages that has several, read in the page's transaction.
    static func withSiblings(_ db: Database, _ messages: [Message], conversationID: UUID) throws -> [Message] {
        guard !messages.isEmpty else { return messages }
        let parents = Array(Set(messages.compactMap(\.parentID))).map(\.lowercased)
        let roots = messages.contains { $0.parentID == nil }
        let placeholders = Array(repeating: "?", count: parents.count).joined(separator: ",")
        // Two searches of (conversation, parent); no OR and no ORDER BY, either of which makes SQLite walk the
        // whole conversation by index instead. Sorted by ``BranchVersion/attach(_:to:)``.
        let versions = try Row.fetchAll(db, sql: """
            SELECT id, parent_id, role, idx FROM messages
            WHERE conversation_id = ? AND parent_id IN (\(placeholders.isEmpty ? "NULL" : placeholders))
            UNION ALL
            SELECT id, parent_id, role, idx FROM messages WHERE conversation_id = ? AND parent_id IS NULL AND ?
            """, arguments: StatementArguments([conversationID.lowercased] + parents + [conversationID.lowercased, roots ? 1 : 0]))
            .map { row -> BranchVersion in
                let id: String = row[0], parent: String? = row[1], role: String = row[2]
                return BranchVersion(id: UUID(text: id), parentID: parent.flatMap { UUID(text: $0) }, role: role, index: row[3])
            }
        return BranchVersion.attach(versions, to: messages)
    }

    public func switchBranch(conversationID: UUID, owner: UserID, to messageID: UUID) async throws {
        let outcome = try await write { db -> ParleyError? in
            guard try Self.owns(db, conversationID: conversationID, owner: owner) else {
                return .notFound("no conversation with id \(conversationID.lowercased)")
            }
            // The message and its ancestors up to the first that is already on the active branch (the fork).
            let up = try Row.fetchAll(db, sql: """
                WITH RECURSIVE up(id, parent_id, idx, active) AS (
                    SELECT id, parent_id, idx, active FROM messages WHERE id = ? AND conversation_id = ?
                    UNION ALL
                    SELECT m.id, m.parent_id, m.idx, m.active FROM messages m JOIN up ON m.id = up.parent_id
                    WHERE up.active = 0
                ) SELECT id, idx, active FROM up
                """, arguments: [messageID.lowercased, conversationID.lowercased])
            guard !up.isEmpty else { return .notFound("no message with id \(messageID.lowercased) in this conversation") }
            let fork: Int = up.last.flatMap { row -> Int? in (row[2] as Bool) ? row[1] : nil } ?? 0
            let rising = up.filter { !($0[2] as Bool) }.map { $0[0] as String }
            // Below the message, the newest version at each step.
            let falling = try String.fetchAll(db, sql: """
                WITH RECURSIVE down(id) AS (
                    SELECT ?
                    UNION ALL
                    SELECT c.id FROM down JOIN messages c ON c.conversation_id = ? AND c.parent_id = down.id
                    WHERE c.idx = (SELECT max(n.idx) FROM messages n WHERE n.conversation_id = ? AND n.parent_id = down.id)
                ) SELECT id FROM down WHERE id <> ?
                """, arguments: [messageID.lowercased, conversationID.lowercased, conversationID.lowercased,
                                 messageID.lowercased])
            try db.execute(sql: "UPDATE messages SET active = 0 WHERE conversation_id = ? AND active = 1 AND idx > ?",
                           arguments: [conversationID.lowercased, fork])
            let activated = rising + falling
            try db.execute(sql: """
                UPDATE messages SET active = 1
                WHERE id IN (\(Array(repeating: "?", count: activated.count).joined(separator: ",")))
                """, arguments: StatementArguments(activated))
            try db.execute(sql: """
                UPDATE conversations
                SET message_count = (SELECT count(*) FROM messages WHERE conversation_id = ? AND active = 1)
                WHERE id = ?
                """, arguments: [conversationID.lowercased, conversationID.lowercased])
            return nil
        }
        if let outcome { throw outcome }
    }
}
