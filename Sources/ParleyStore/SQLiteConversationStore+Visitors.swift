import Foundation
import GRDB
import ParleyCore
import ParleyRetrieval

/// Published assistants and their visitors' chats in SQLite.
extension SQLiteConversationStore: VisitorChatStore {
    public func publishedAssistant(slug: String) async throws -> Assistant {
        let found = try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM assistants WHERE public_slug = ?", arguments: [slug]).map(Self.assistant(from:))
        }
        guard let found else { throw Self.noPublishedAssistant }
        return found
    }

    public func startVisitorChat(_ settings: NewConversation, assistant: Assistant, tokenDigest: String) async throws -> VisitorChat {
        let now = Date(millis: Date().millis)
        let conversation = Conversation(id: .v7(now: now), ownerID: assistant.ownerID, title: settings.title ?? "",
                                        model: settings.model, systemPrompt: settings.systemPrompt, messageCount: 0,
                                        createdAt: now, updatedAt: now, knowledgeBaseIDs: settings.knowledgeBaseIDs,
                                        parameters: settings.parameters, retrieval: settings.retrieval)
        let started = try await write { db -> Bool in
            // Still published (and by the same owner) when the chat is written.
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM assistants WHERE id = ? AND owner_id = ? AND public_slug IS NOT NULL",
                                    arguments: [assistant.id.lowercased, assistant.ownerID.rawValue]) != nil else { return false }
            try db.execute(sql: """
                INSERT INTO conversations (id, owner_id, title, model, system_prompt, created_at, updated_at,
                                           knowledge_base_ids, visitor_of, parameters, retrieval)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [conversation.id.lowercased, assistant.ownerID.rawValue, conversation.title, conversation.model,
                                 conversation.systemPrompt, now.millis, now.millis,
                                 Conversation.knowledgeBaseColumn(settings.knowledgeBaseIDs), assistant.id.lowercased,
                                 settings.parameters.column, settings.retrieval.column])
            try db.execute(sql: "INSERT INTO visitor_chats (conversation_id, token_digest) VALUES (?, ?)",
                           arguments: [conversation.id.lowercased, tokenDigest])
            return true
        }
        guard started else { throw Self.noPublishedAssistant }
        return VisitorChat(conversation: conversation, assistantID: assistant.id, handoff: nil)
    }

    public func visitorChat(id: UUID, tokenDigest: String) async throws -> VisitorChat {
        let found = try await read { db in
            try Row.fetchOne(db, sql: """
                SELECT c.*, v.handoff_email, v.handoff_note, v.handoff_at, 0 AS thumbs_up, 0 AS thumbs_down
                FROM conversations c
                JOIN visitor_chats v ON v.conversation_id = c.id
                JOIN assistants a ON a.id = c.visitor_of AND a.owner_id = c.owner_id AND a.public_slug IS NOT NULL
                WHERE c.id = ? AND v.token_digest = ?
                """, arguments: [id.lowercased, tokenDigest]).map(Self.visitorChat(from:))
        }
        guard let found else { throw Self.noVisitorChat(id) }
        return found
    }

    public func requestHandoff(chatID: UUID, tokenDigest: String, email: String, note: String) async throws -> Handoff {
        _ = try await visitorChat(id: chatID, tokenDigest: tokenDigest)
        let now = Date(millis: Date().millis)
        let recorded = try await write { db -> Bool in
            try db.execute(sql: """
                UPDATE visitor_chats SET handoff_email = ?, handoff_note = ?, handoff_at = ?
                WHERE conversation_id = ? AND token_digest = ?
                """, arguments: [email, note, now.millis, chatID.lowercased, tokenDigest])
            guard db.changesCount > 0 else { return false }
            // The chat moves to the top of its assistant's list.
            try db.execute(sql: "UPDATE conversations SET updated_at = ? WHERE id = ?", arguments: [now.millis, chatID.lowercased])
            return true
        }
        guard recorded else { throw Self.noVisitorChat(chatID) }
        return Handoff(email: email, note: note, requestedAt: now)
    }

    public func visitorChats(assistantID: UUID, owner: UserID, limit: Int, after: ConversationCursor?) async throws -> Page<VisitorChat> {
        let rows = try await read { db -> [VisitorChat] in
            var sql = """
                SELECT c.*, \(StoreText.visitorChatColumns)
                FROM conversations c JOIN visitor_chats v ON v.conversation_id = c.id
                WHERE c.visitor_of = ? AND c.owner_id = ?
                """
            var arguments: StatementArguments = [assistantID.lowercased, owner.rawValue]
            if let after {
                sql += " AND (c.updated_at, c.id) < (?, ?)"
                arguments += [after.updatedAtMillis, after.id.lowercased]
            }
            sql += " ORDER BY c.updated_at DESC, c.id DESC LIMIT ?"
            arguments += [limit + 1]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.visitorChat(from:))
        }
        return Page.cut(rows, limit: limit) { ConversationCursor(updatedAtMillis: $0.conversation.updatedAt.millis, id: $0.conversation.id) }
    }

    static func visitorChat(from row: Row) throws -> VisitorChat {
        let conversation = try conversation(from: row)
        var handoff: Handoff?
        if let email: String = row["handoff_email"], let at: Int64 = row["handoff_at"] {
            handoff = Handoff(email: email, note: row["handoff_note"] ?? "", requestedAt: Date(millis: at))
        }
        return VisitorChat(conversation: conversation, assistantID: try uuid(row, "visitor_of"), handoff: handoff,
                           thumbsUp: row["thumbs_up"], thumbsDown: row["thumbs_down"])
    }

    static let noPublishedAssistant = ParleyError.notFound("no published assistant at this address")
    static func noVisitorChat(_ id: UUID) -> ParleyError { .notFound("no chat with id \(id.lowercased)") }
}
