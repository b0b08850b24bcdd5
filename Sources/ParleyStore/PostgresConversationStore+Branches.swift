import Foundation
import ParleyCore
import PostgresNIO

/// Branches: the versions of a message, the whole tree, and switching the active branch.
extension PostgresConversationStore {
    public func messageTree(conversationID: UUID, owner: UserID, after: Int, limit: Int) async throws -> MessagePage {
        let rows = try await messageRows(conversationID: conversationID, owner: owner, condition: "m.idx > $3",
                                         order: "ASC", bound: after, limit: limit)
        return MessagePage(messages: try rows.prefix(limit).map(Self.message(from:)), hasMore: rows.count > limit)
    }

    /// The page with the versions of each of its messages that has several.
    func withSiblings(_ messages: [Message], conversationID: UUID) async throws -> [Message] {
        guard !messages.isEmpty else { return messages }
        let parents = Array(Set(messages.compactMap(\.parentID)))
        let roots = messages.contains { $0.parentID == nil }
        let versions = try await perform {
            var versions: [BranchVersion] = []
            // Two searches of (conversation, parent); no OR and no ORDER BY, which could walk the whole
            // conversation by index instead. Sorted by ``BranchVersion/attach(_:to:)``.
            let rows = try await client.query("""
                SELECT id, parent_id, role, idx FROM messages
                WHERE conversation_id = \(conversationID) AND parent_id = ANY(\(parents)::uuid[])
                UNION ALL
                SELECT id, parent_id, role, idx FROM messages
                WHERE conversation_id = \(conversationID) AND parent_id IS NULL AND \(roots)
                """, logger: logger)
            for try await (id, parent, role, index) in rows.decode((UUID, UUID?, String, Int).self) {
                versions.append(BranchVersion(id: id, parentID: parent, role: role, index: index))
            }
            return versions
        }
        return BranchVersion.attach(versions, to: messages)
    }

    public func switchBranch(conversationID: UUID, owner: UserID, to messageID: UUID) async throws {
        let outcome = try await perform {
            try await client.withTransaction(logger: logger) { connection -> ParleyError? in
                // The conversation's row lock orders this against turns starting on it.
                let owned = try await connection.query("""
                    SELECT 1 FROM conversations WHERE id = \(conversationID) AND owner_id = \(owner.rawValue) FOR UPDATE
                    """, logger: logger).collect()
                guard !owned.isEmpty else { return .notFound("no conversation with id \(conversationID.lowercased)") }
                // The message and its ancestors up to the first already on the active branch (the fork).
                var up: [(id: UUID, index: Int, active: Bool)] = []
                for try await row in try await connection.query("""
                    WITH RECURSIVE up(id, parent_id, idx, active) AS (
                        SELECT id, parent_id, idx, active FROM messages
                        WHERE id = \(messageID) AND conversation_id = \(conversationID)
                        UNION ALL
                        SELECT m.id, m.parent_id, m.idx, m.active FROM messages m JOIN up ON m.id = up.parent_id
                        WHERE NOT up.active
                    ) SELECT id, idx, active FROM up
                    """, logger: logger).decode((UUID, Int, Bool).self) { up.append(row) }
                guard !up.isEmpty else { return .notFound("no message with id \(messageID.lowercased) in this conversation") }
                let fork = up.last.flatMap { $0.active ? $0.index : nil } ?? 0
                // Below the message, the newest version at each step.
                var falling: [UUID] = []
                for try await id in try await connection.query("""
                    WITH RECURSIVE down(id, depth) AS (
                        SELECT \(messageID)::uuid, 0
                        UNION ALL
                        SELECT c.id, down.depth + 1 FROM down
                        JOIN messages c ON c.conversation_id = \(conversationID) AND c.parent_id = down.id
                        WHERE c.idx = (SELECT max(n.idx) FROM messages n
                                       WHERE n.conversation_id = \(conversationID) AND n.parent_id = down.id)
                    ) SELECT id FROM down WHERE depth > 0 ORDER BY depth
                    """, logger: logger).decode(UUID.self) { falling.append(id) }
                let activated = up.filter { !$0.active }.map(\.id) + falling
                try await connection.query("""
                    UPDATE messages SET active = false WHERE conversation_id = \(conversationID) AND active AND idx > \(fork)
                    """, logger: logger)
                try await connection.query("UPDATE messages SET active = true WHERE id = ANY(\(activated)::uuid[])",
                                           logger: logger)
                try await Self.recountActiveBranch(connection, conversationID: conversationID, logger: logger)
                return nil
            }
        }
        if let outcome { throw outcome }
    }

    /// Sets the conversation's message count and leaf from its active branch.
    static func recountActiveBranch(_ connection: PostgresConnection, conversationID: UUID, logger: Logger) async throws {
        try await connection.query("""
            UPDATE conversations SET
                message_count = (SELECT count(*) FROM messages WHERE conversation_id = \(conversationID) AND active),
                leaf_id = (SELECT id FROM messages WHERE conversation_id = \(conversationID) AND active
                           ORDER BY idx DESC LIMIT 1)
            WHERE id = \(conversationID)
            """, logger: logger)
    }
}
