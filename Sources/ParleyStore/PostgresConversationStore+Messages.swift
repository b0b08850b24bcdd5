import Foundation
import ParleyCore
import PostgresNIO

/// Messages: history pages, turns, partial and final answer text.
extension PostgresConversationStore {
    static let messageColumns = """
        m.id, m.conversation_id, m.idx, m.parent_id, m.role, m.content, m.model, m.status, m.error, \
        m.prompt_tokens, m.completion_tokens, m.ttft_ms, m.latency_ms, m.created_at, m.updated_at, m.sources, \
        m.parameters, m.cache, m.reasoning, m.reasoning_ms, m.finish_reason, m.active, m.attachments
        """

    /// The active branch's page, read with the ownership check inside it; in a conversation that may hold
    /// versions (see ``BranchVersion/mayHaveVersions(messageCount:lastIndex:)``), a second round trip reads them.
    public func messages(conversationID: UUID, owner: UserID, window: MessageWindow, limit: Int) async throws -> MessagePage {
        // One more row than asked tells whether more lie beyond the page.
        let (condition, order, bound) = switch window {
        case .newest: ("m.idx < $3", "DESC", Int(Int32.max))
        case .before(let index): ("m.idx < $3", "DESC", index)
        case .after(let index): ("m.idx > $3", "ASC", index)
        }
        let rows = try await messageRows(conversationID: conversationID, owner: owner,
                                         condition: "m.active AND \(condition)", order: order, bound: bound, limit: limit)
        let page = try rows.prefix(limit).map(Self.message(from:))
        var messages = order == "DESC" ? page.reversed() : page
        if let first = rows.first?.makeRandomAccess(),
           BranchVersion.mayHaveVersions(messageCount: try first["c_message_count"].decode(Int.self),
                                         lastIndex: try first["c_last_index"].decode(Int.self)) {
            messages = try await withSiblings(messages, conversationID: conversationID)
        }
        return MessagePage(messages: messages, hasMore: rows.count > limit)
    }

    /// Up to `limit + 1` of the conversation's message rows meeting `condition` (with `$3` bound to `bound`) in
    /// index `order`, read with the ownership check inside the query; an empty result asks whether the
    /// conversation exists at all (throwing notFound for another user's or an unknown one).
    func messageRows(conversationID: UUID, owner: UserID, condition: String, order: String, bound: Int,
                     limit: Int) async throws -> [PostgresRow] {
        let sql = "SELECT \(Self.messageColumns), f.rating, f.comment, f.updated_at AS f_updated_at, "
            + "c.message_count AS c_message_count, c.last_index AS c_last_index "
            + "FROM messages m JOIN conversations c ON c.id = m.conversation_id AND c.owner_id = $1 "
            + "LEFT JOIN feedback f ON f.message_id = m.id AND f.user_id = $1 "
            + "WHERE m.conversation_id = $2 AND \(condition) ORDER BY m.idx \(order) LIMIT $4"
        var binds = PostgresBindings()
        binds.append(owner.rawValue)
        binds.append(conversationID)
        binds.append(bound)
        binds.append(limit + 1)
        let rows = try await perform {
            try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).collect()
        }
        if rows.isEmpty { _ = try await conversation(id: conversationID, owner: owner) }
        return rows
    }

    public func contextMessages(conversationID: UUID, before: Int, limit: Int) async throws
        -> [(index: Int, message: ChatMessage)]
    {
        try await perform {
            try await client.withConnection { connection in
                try await Self.contextRows(connection, conversationID: conversationID, before: before, limit: limit,
                                           logger: logger)
            }
        }
    }

    static func contextRows(_ connection: PostgresConnection, conversationID: UUID, before: Int, limit: Int,
                            logger: Logger) async throws -> [(index: Int, message: ChatMessage)] {
        var result: [(index: Int, message: ChatMessage)] = []
        let rows = try await connection.query("""
            SELECT role, content, idx, attachments FROM messages
            WHERE conversation_id = \(conversationID) AND active AND idx < \(before) AND role <> 'system'
              AND (content <> '' OR attachments IS NOT NULL) AND status <> 'streaming'
            ORDER BY idx DESC LIMIT \(limit)
            """, logger: logger)
        for try await (role, content, index, attachments) in rows.decode((String, String, Int, String?).self) {
            result.append((index, ChatMessage(role: Role(rawValue: role) ?? .user, content: content,
                                              attachments: AttachmentReference.references(column: attachments))))
        }
        return result
    }

    public func deleteMessages(conversationID: UUID, owner: UserID, fromIndex: Int) async throws {
        let found = try await perform {
            try await client.withTransaction(logger: logger) { connection -> Bool in
                let rows = try await connection.query("""
                    UPDATE conversations SET updated_at = \(Date().millis)
                    WHERE id = \(conversationID) AND owner_id = \(owner.rawValue) RETURNING id
                    """, logger: logger).collect()
                guard !rows.isEmpty else { return false }
                try await connection.query("""
                    DELETE FROM messages WHERE conversation_id = \(conversationID) AND idx >= \(fromIndex)
                    """, logger: logger)
                try await Self.recountActiveBranch(connection, conversationID: conversationID, logger: logger)
                return true
            }
        }
        if !found { throw ParleyError.notFound("no conversation with id \(conversationID.lowercased)") }
    }

    public func message(id: UUID, owner: UserID) async throws -> Message {
        var binds = PostgresBindings()
        binds.append(owner.rawValue)
        binds.append(id)
        let sql = "SELECT \(Self.messageColumns), f.rating, f.comment, f.updated_at AS f_updated_at "
            + "FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            + "LEFT JOIN feedback f ON f.message_id = m.id AND f.user_id = $1 WHERE m.id = $2 AND c.owner_id = $1"
        let rows = try await perform {
            try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).collect()
        }
        guard let row = rows.first else { throw ParleyError.notFound("no message with id \(id.lowercased)") }
        return try Self.message(from: row)
    }

    /// One statement, so one round trip: take the messages a replacing turn replaces ($12, a user message on the
    /// active branch; NULL replaces nothing) off the active branch, bump the conversation (its row lock orders
    /// concurrent turns) and move its leaf to the new answer, insert both messages, and read the history before
    /// them. The user message follows the conversation's leaf as it was before this turn, read back from the
    /// locked row, so a turn that waited for another follows it; a replacing one takes the replaced message's
    /// parent. The history comes from the statement's snapshot (which still has the replaced rows active, so the
    /// read leaves them out by index): a turn committed while this one waited for the lock is left out of this
    /// turn's context. No row back: the conversation is not the owner's, or $12 names no active user message.
    static let startTurnSQL = """
        WITH target AS (
            SELECT r.parent_id FROM messages r
            WHERE r.conversation_id = $3 AND r.idx = $12::bigint AND r.role = 'user' AND r.active
        ), replaced AS (
            UPDATE messages SET active = false
            WHERE conversation_id = $3 AND active AND idx >= $12::bigint AND EXISTS (SELECT 1 FROM target)
              AND EXISTS (SELECT 1 FROM conversations WHERE id = $3 AND owner_id = $4)
            RETURNING 1
        ), conv AS (
            UPDATE conversations
            SET last_index = last_index + 2, updated_at = $1,
                message_count = message_count + 2 - (SELECT count(*)::int FROM replaced),
                title = CASE WHEN title = '' THEN $2 ELSE title END,
                previous_leaf_id = leaf_id, leaf_id = $7
            WHERE id = $3 AND owner_id = $4 AND ($12::bigint IS NULL OR EXISTS (SELECT 1 FROM target))
            RETURNING last_index, model, system_prompt, knowledge_base_ids, parameters, previous_leaf_id, retrieval
        ), inserted AS (
            INSERT INTO messages (id, conversation_id, idx, parent_id, role, content, model, status, created_at,
                                  updated_at, lease_expires_at, parameters, attachments)
            SELECT $5, $3, last_index - 1,
                   CASE WHEN $12::bigint IS NULL THEN previous_leaf_id ELSE (SELECT parent_id FROM target) END,
                   'user', $6, NULL, 'complete', $1, $1, NULL, NULL, $13::text FROM conv
            UNION ALL
            SELECT $7, $3, last_index, $5, 'assistant', '', COALESCE($8, model, $9), 'streaming', $1, $1,
                   \(databaseNowMillis) + $10, parameters, NULL FROM conv
            RETURNING role, parent_id
        )
        SELECT 0 AS kind, c.last_index AS idx, c.model AS text1, c.system_prompt AS text2, c.knowledge_base_ids AS text3,
               c.parameters AS text4, (SELECT i.parent_id::text FROM inserted i WHERE i.role = 'user') AS text5,
               c.retrieval AS text6
        FROM conv c
        UNION ALL
        (SELECT 1, h.idx, h.role, h.content, h.attachments, NULL, NULL, NULL FROM messages h, conv c
         WHERE h.conversation_id = $3 AND h.active AND h.idx < c.last_index - 1 AND h.role <> 'system'
           AND (h.content <> '' OR h.attachments IS NOT NULL) AND h.status <> 'streaming' AND ($12::bigint IS NULL OR h.idx < $12::bigint)
         ORDER BY h.idx DESC LIMIT $11)
        """

    public func startTurn(conversationID: UUID, owner: UserID, userContent: String, attachments: [AttachmentReference],
                          model: String?, defaultModel: String?, historyLimit: Int, lease: Duration,
                          replacingFrom: Int?) async throws -> Turn {
        let now = Date(millis: Date().millis)
        let userID = UUID.v7(now: now)
        let assistantID = UUID.v7(now: now)
        let statement = PostgresStatements.StartTurn(
            nowMillis: now.millis,
            title: StoreText.title(from: userContent, attachments: attachments),
            conversationID: conversationID,
            owner: owner.rawValue, userID: userID, userContent: userContent, assistantID: assistantID, model: model,
            defaultModel: defaultModel, leaseMillis: lease.millis, historyLimit: historyLimit,
            replacingFrom: replacingFrom, attachments: AttachmentReference.column(attachments))
        let rows = try await perform {
            var rows: [PostgresStatements.StartTurn.Row] = []
            for try await row in try await client.execute(statement, logger: logger) { rows.append(row) }
            return rows
        }
        var head: (lastIndex: Int, model: String?, systemPrompt: String?, bases: String?, parameters: String?,
                   parent: String?, retrieval: String?)?
        var history: [(index: Int, message: ChatMessage)] = []
        for (kind, index, text1, text2, text3, text4, text5, text6) in rows {
            if kind == 0 {
                head = (index, text1, text2, text3, text4, text5, text6)
            } else {
                history.append((index, ChatMessage(role: Role(rawValue: text1 ?? "") ?? .user, content: text2 ?? "",
                                                   attachments: AttachmentReference.references(column: text3))))
            }
        }
        guard let head else {
            // Throws notFound for another user's or an unknown conversation.
            _ = try await conversation(id: conversationID, owner: owner)
            throw ParleyError.conflict("the replaced message is not on the active branch")
        }
        var user = Message(id: userID, conversationID: conversationID, index: head.lastIndex - 1,
                           parentID: head.parent.flatMap { UUID(uuidString: $0) },
                           role: .user, content: userContent, model: nil, status: .complete,
                           createdAt: now, updatedAt: now)
        user.attachments = attachments
        let assistant = Message(id: assistantID, conversationID: conversationID, index: head.lastIndex,
                                parentID: userID, role: .assistant, content: "",
                                model: model ?? head.model ?? defaultModel, status: .streaming,
                                createdAt: now, updatedAt: now, parameters: head.parameters.map { ChatParameters(column: $0) })
        return Turn(user: user, assistant: assistant, systemPrompt: head.systemPrompt, history: history,
                    knowledgeBaseIDs: Conversation.knowledgeBaseIDs(column: head.bases ?? ""),
                    parameters: ChatParameters(column: head.parameters), retrieval: RetrievalSettings(column: head.retrieval))
    }

    public func reopenAnswer(id: UUID, owner: UserID, lease: Duration) async throws -> Message {
        var binds = PostgresBindings()
        binds.append(id)
        binds.append(owner.rawValue)
        binds.append(lease.millis)
        binds.append(Date().millis)
        let sql = """
            UPDATE messages SET status = 'streaming', error = NULL, finish_reason = NULL,
                lease_expires_at = \(Self.databaseNowMillis) + $3, updated_at = $4
            WHERE \(StoreText.reopenableAnswer(id: "$1", owner: "$2"))
            RETURNING \(StoreText.unqualified(Self.messageColumns))
            """
        let rows = try await perform {
            try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).collect()
        }
        if let row = rows.first { return try Self.message(from: row) }
        throw StoreText.whyNotReopenable(try await message(id: id, owner: owner))
    }

    public func setSources(messageID: UUID, sources: String) async throws {
        try await perform {
            try await client.query("UPDATE messages SET sources = \(sources) WHERE id = \(messageID)", logger: logger)
        }
    }

    public func savePartialContent(_ updates: [PartialAnswer]) async throws {
        guard !updates.isEmpty else { return }
        let ids = updates.map(\.id)
        let contents = updates.map(\.content)
        // '' for "no reasoning to save": an answer's reasoning is never empty text.
        let reasonings = updates.map { $0.reasoning ?? "" }
        try await perform {
            try await client.query("""
                UPDATE messages m SET content = u.content, reasoning = COALESCE(NULLIF(u.reasoning, ''), m.reasoning),
                    updated_at = \(Date().millis)
                FROM unnest(\(ids)::uuid[], \(contents)::text[], \(reasonings)::text[]) AS u(id, content, reasoning)
                WHERE m.id = u.id AND m.status = 'streaming'
                """, logger: logger)
        }
    }

    public func finishMessage(id: UUID, _ completion: MessageCompletion) async throws -> Message {
        let statement = PostgresStatements.FinishMessage(id: id, completion: completion, nowMillis: Date().millis)
        let rows = try await perform {
            var rows: [PostgresRow] = []
            for try await row in try await client.execute(statement, logger: logger) { rows.append(row) }
            return rows
        }
        guard let row = rows.first else { throw ParleyError.notFound("no message with id \(id.lowercased)") }
        return try Self.message(from: row)
    }

    /// Milliseconds since 1970 by the database's clock, so replicas with skewed clocks agree on leases.
    static let databaseNowMillis = "(extract(epoch from clock_timestamp()) * 1000)::bigint"

    public func renewLeases(_ ids: [UUID], for duration: Duration) async throws -> [UUID: MessageStatus] {
        guard !ids.isEmpty else { return [:] }
        var binds = PostgresBindings()
        binds.append(duration.millis)
        binds.append(ids)
        // One statement: renew the streaming ones, and report every one's status.
        let sql = """
            WITH renewed AS (
                UPDATE messages SET lease_expires_at = \(Self.databaseNowMillis) + $1
                WHERE id = ANY($2::uuid[]) AND status = 'streaming' RETURNING id
            )
            SELECT m.id, CASE WHEN r.id IS NULL THEN m.status ELSE 'streaming' END
            FROM messages m LEFT JOIN renewed r ON r.id = m.id WHERE m.id = ANY($2::uuid[])
            """
        let rows = try await perform {
            try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).collect()
        }
        var statuses: [UUID: MessageStatus] = [:]
        for row in rows {
            let (id, status) = try row.decode((UUID, String).self)
            statuses[id] = MessageStatus(rawValue: status) ?? .interrupted
        }
        return statuses
    }

    public func interruptExpiredGenerations() async throws -> [UUID] {
        let sql = """
            UPDATE messages SET status = 'interrupted', updated_at = \(Self.databaseNowMillis), lease_expires_at = NULL,
                error = 'the server generating this answer stopped before it finished'
            WHERE status = 'streaming' AND (lease_expires_at IS NULL OR lease_expires_at < \(Self.databaseNowMillis))
            RETURNING id
            """
        let rows = try await perform {
            try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect()
        }
        return try rows.map { try $0.decode(UUID.self) }
    }

    public func endStreaming(id: UUID, status: MessageStatus, errorMessage: String?) async throws -> Bool {
        let rows = try await perform {
            try await client.query("""
                UPDATE messages SET status = \(status.rawValue), error = \(errorMessage), updated_at = \(Date().millis),
                    lease_expires_at = NULL
                WHERE id = \(id) AND status = 'streaming' RETURNING id
                """, logger: logger).collect()
        }
        return !rows.isEmpty
    }
}
