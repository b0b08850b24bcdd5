import Foundation
import ParleyCore
import ParleyRetrieval
import PostgresNIO

/// Published assistants and their visitors' chats in PostgreSQL.
extension PostgresConversationStore: VisitorChatStore {
    public func publishedAssistant(slug: String) async throws -> Assistant {
        let rows = try await perform {
            try await client.query("SELECT * FROM assistants WHERE public_slug = \(slug)", logger: logger).collect()
        }
        guard let row = rows.first else { throw Self.noPublishedAssistant }
        return try Self.assistant(from: row)
    }

    public func startVisitorChat(_ settings: NewConversation, assistant: Assistant, tokenDigest: String) async throws -> VisitorChat {
        let now = Date(millis: Date().millis)
        let conversation = Conversation(id: .v7(now: now), ownerID: assistant.ownerID, title: settings.title ?? "",
                                        model: settings.model, systemPrompt: settings.systemPrompt, messageCount: 0,
                                        createdAt: now, updatedAt: now, knowledgeBaseIDs: settings.knowledgeBaseIDs,
                                        parameters: settings.parameters, retrieval: settings.retrieval)
        let retrieval = settings.retrieval.column
        let bases = Conversation.knowledgeBaseColumn(settings.knowledgeBaseIDs)
        let parameters = settings.parameters.column
        let owner = assistant.ownerID.rawValue
        let started = try await perform {
            try await client.withTransaction(logger: logger) { connection -> Bool in
                // Still published (and by the same owner) when the chat is written.
                let rows = try await connection.query("""
                    INSERT INTO conversations (id, owner_id, title, model, system_prompt, created_at, updated_at,
                                               knowledge_base_ids, visitor_of, parameters, retrieval)
                    SELECT \(conversation.id), \(owner), \(conversation.title), \(conversation.model),
                           \(conversation.systemPrompt), \(now.millis), \(now.millis), \(bases), \(assistant.id), \(parameters),
                           \(retrieval)
                    WHERE EXISTS (SELECT 1 FROM assistants WHERE id = \(assistant.id) AND owner_id = \(owner)
                                  AND public_slug IS NOT NULL)
                    RETURNING id
                    """, logger: logger).collect()
                guard !rows.isEmpty else { return false }
                try await connection.query(
                    "INSERT INTO visitor_chats (conversation_id, token_digest) VALUES (\(conversation.id), \(tokenDigest))",
                    logger: logger)
                return true
            }
        }
        guard started else { throw Self.noPublishedAssistant }
        return VisitorChat(conversation: conversation, assistantID: assistant.id, handoff: nil)
    }

    public func visitorChat(id: UUID, tokenDigest: String) async throws -> VisitorChat {
        let rows = try await perform {
            try await client.query("""
                SELECT c.*, v.handoff_email, v.handoff_note, v.handoff_at, 0::bigint AS thumbs_up, 0::bigint AS thumbs_down
                FROM conversations c
                JOIN visitor_chats v ON v.conversation_id = c.id
                JOIN assistants a ON a.id = c.visitor_of AND a.owner_id = c.owner_id AND a.public_slug IS NOT NULL
                WHERE c.id = \(id) AND v.token_digest = \(tokenDigest)
                """, logger: logger).collect()
        }
        guard let row = rows.first else { throw Self.noVisitorChat(id) }
        return try Self.visitorChat(from: row)
    }

    public func requestHandoff(chatID: UUID, tokenDigest: String, email: String, note: String) async throws -> Handoff {
        _ = try await visitorChat(id: chatID, tokenDigest: tokenDigest)
        let now = Date(millis: Date().millis)
        let recorded = try await perform {
            try await client.withTransaction(logger: logger) { connection -> Bool in
                let rows = try await connection.query("""
                    UPDATE visitor_chats SET handoff_email = \(email), handoff_note = \(note), handoff_at = \(now.millis)
                    WHERE conversation_id = \(chatID) AND token_digest = \(tokenDigest) RETURNING conversation_id
                    """, logger: logger).collect()
                guard !rows.isEmpty else { return false }
                // The chat moves to the top of its assistant's list.
                try await connection.query("UPDATE conversations SET updated_at = \(now.millis) WHERE id = \(chatID)", logger: logger)
                return true
            }
        }
        guard recorded else { throw Self.noVisitorChat(chatID) }
        return Handoff(email: email, note: note, requestedAt: now)
    }

    public func visitorChats(assistantID: UUID, owner: UserID, limit: Int, after: ConversationCursor?) async throws -> Page<VisitorChat> {
        var binds = PostgresBindings()
        binds.append(assistantID)
        binds.append(owner.rawValue)
        var sql = """
            SELECT c.*, \(StoreText.visitorChatColumns)
            FROM conversations c JOIN visitor_chats v ON v.conversation_id = c.id
            WHERE c.visitor_of = $1 AND c.owner_id = $2
            """
        if let after {
            binds.append(after.updatedAtMillis)
            binds.append(after.id)
            sql += " AND (c.updated_at, c.id) < ($3, $4)"
        }
        binds.append(limit + 1)
        sql += " ORDER BY c.updated_at DESC, c.id DESC LIMIT $\(binds.count)"
        let rows = try await perform {
            try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).collect()
        }
        return Page.cut(try rows.map(Self.visitorChat(from:)), limit: limit) {
            ConversationCursor(updatedAtMillis: $0.conversation.updatedAt.millis, id: $0.conversation.id)
        }
    }

    static func visitorChat(from row: PostgresRow) throws -> VisitorChat {
        let columns = row.makeRandomAccess()
        var handoff: Handoff?
        if let email = try columns["handoff_email"].decode(String?.self), let at = try columns["handoff_at"].decode(Int64?.self) {
            handoff = Handoff(email: email, note: try columns["handoff_note"].decode(String?.self) ?? "", requestedAt: Date(millis: at))
        }
        return VisitorChat(conversation: try conversation(from: row), assistantID: try columns["visitor_of"].decode(UUID.self),
                           handoff: handoff, thumbsUp: Int(try columns["thumbs_up"].decode(Int64.self)),
                           thumbsDown: Int(try columns["thumbs_down"].decode(Int64.self)))
    }

    static let noPublishedAssistant = ParleyError.notFound("no published assistant at this address")
    static func noVisitorChat(_ id: UUID) -> ParleyError { .notFound("no chat with id \(id.lowercased)") }
}
