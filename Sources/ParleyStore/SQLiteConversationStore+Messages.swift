import Foundation
import GRDB
import ParleyCore

/// Messages: history pages, turns, partial and final answer text.
extension SQLiteConversationStore {
    public func messages(conversationID: UUID, owner: UserID, window: MessageWindow, limit: Int) async throws -> MessagePage {
        // One more row than asked tells whether more lie beyond the page.
        let (condition, order, bound) = switch window {
        case .newest: ("m.idx < ?", "DESC", Int.max)
        case .before(let index): ("m.idx < ?", "DESC", index)
        case .after(let index): ("m.idx > ?", "ASC", index)
        }
        let page = try await read { db -> MessagePage? in
            guard let counts = try Row.fetchOne(db, sql: """
                SELECT message_count, last_index FROM conversations WHERE id = ? AND owner_id = ?
                """, arguments: [conversationID.lowercased, owner.rawValue]) else { return nil }
            let rows = try Row.fetchAll(db, sql: """
                SELECT \(Self.messageColumns), f.rating, f.comment, f.updated_at
                FROM messages m LEFT JOIN feedback f ON f.message_id = m.id AND f.user_id = ?
                WHERE m.conversation_id = ? AND m.active = 1 AND \(condition)
                ORDER BY m.idx \(order) LIMIT ?
                """, arguments: [owner.rawValue, conversationID.lowercased, bound, limit + 1])
                .map(Self.message(from:))
            let shown = rows.prefix(limit)
            var messages = order == "DESC" ? shown.reversed() : Array(shown)
            if BranchVersion.mayHaveVersions(messageCount: counts[0], lastIndex: counts[1]) {
                messages = try Self.withSiblings(db, messages, conversationID: conversationID)
            }
            return MessagePage(messages: messages, hasMore: rows.count > limit)
        }
        guard let page else { throw ParleyError.notFound("no conversation with id \(conversationID.lowercased)") }
        return page
    }

    public func contextMessages(conversationID: UUID, before: Int, limit: Int) async throws
        -> [(index: Int, message: ChatMessage)]
    {
        try await read { db in try Self.contextRows(db, conversationID: conversationID, before: before, limit: limit) }
    }

    static func contextRows(_ db: Database, conversationID: UUID, before: Int, limit: Int) throws
        -> [(index: Int, message: ChatMessage)]
    {
        let statement = try db.cachedStatement(sql: """
            SELECT role, content, idx, attachments FROM messages
            WHERE conversation_id = ? AND active = 1 AND idx < ? AND role != 'system'
              AND (content != '' OR attachments IS NOT NULL) AND status != 'streaming'
            ORDER BY idx DESC LIMIT ?
            """)
        return try all(statement, arguments: [conversationID.lowercased, before, limit]) { row in
            let roleText: String = row[0]
            return (row[2], ChatMessage(role: Role(rawValue: roleText) ?? .user, content: row[1],
                                        attachments: AttachmentReference.references(column: row[3])))
        }
    }

    public func deleteMessages(conversationID: UUID, owner: UserID, fromIndex: Int) async throws {
        let now = Date().millis
        let found = try await write { db -> Bool in
            try db.execute(sql: "UPDATE conversations SET updated_at = ? WHERE id = ? AND owner_id = ?",
                           arguments: [now, conversationID.lowercased, owner.rawValue])
            guard db.changesCount > 0 else { return false }
            try db.execute(sql: "DELETE FROM messages WHERE conversation_id = ? AND idx >= ?",
                           arguments: [conversationID.lowercased, fromIndex])
            try db.execute(sql: """
                UPDATE conversations
                SET message_count = (SELECT count(*) FROM messages WHERE conversation_id = ? AND active = 1)
                WHERE id = ?
                """, arguments: [conversationID.lowercased, conversationID.lowercased])
            return true
        }
        if !found { throw ParleyError.notFound("no conversation with id \(conversationID.lowercased)") }
    }

    public func message(id: UUID, owner: UserID) async throws -> Message {
        let row = try await read { db in
            try Row.fetchOne(db, sql: """
                SELECT \(Self.messageColumns), f.rating, f.comment, f.updated_at
                FROM messages m JOIN conversations c ON c.id = m.conversation_id
                LEFT JOIN feedback f ON f.message_id = m.id AND f.user_id = ?
                WHERE m.id = ? AND c.owner_id = ?
                """, arguments: [owner.rawValue, id.lowercased, owner.rawValue]).map(Self.message(from:))
        }
        guard let row else { throw ParleyError.notFound("no message with id \(id.lowercased)") }
        return row
    }

    public func startTurn(conversationID: UUID, owner: UserID, userContent: String, attachments: [AttachmentReference],
                          model: String?, defaultModel: String?, historyLimit: Int, lease: Duration,
                          replacingFrom: Int?) async throws -> Turn {
        let now = Date()
        let leaseExpiry = now.millis + lease.millis
        let attachmentsColumn = AttachmentReference.column(attachments)
        let turn = try await write { db -> Turn? in
            guard let row = try Self.first(db.cachedStatement(sql: """
                UPDATE conversations
                SET last_index = last_index + 2, message_count = message_count + 2, updated_at = ?
                WHERE id = ? AND owner_id = ?
                RETURNING last_index, model, system_prompt, knowledge_base_ids, parameters, retrieval, title = ''
                """), arguments: [now.millis, conversationID.lowercased, owner.rawValue], { row in
                    (lastIndex: row[0] as Int, model: row[1] as String?, systemPrompt: row[2] as String?,
                     knowledgeBases: row[3] as String?, parameters: row[4] as String?, retrieval: row[5] as String?,
                     untitled: row[6] as Bool)
                })
            else { return nil }
            // An untitled conversation takes its title from this turn; the title is worked out only then (on the
            // characters of the message, about 15,000 instructions for a short one).
            if row.untitled {
                let title = StoreText.title(from: userContent, attachments: attachments)
                if !title.isEmpty {
                    try db.cachedStatement(sql: "UPDATE conversations SET title = ? WHERE id = ? AND title = ''")
                        .execute(arguments: [title, conversationID.lowercased])
                }
            }
            let lastIndex = row.lastIndex
            let conversationModel = row.model
            let parameters = row.parameters
            // The user message follows the active branch's newest message, or, replacing one, takes its place.
            var parent: String?
            if let replacingFrom {
                guard let replaced = try Row.fetchOne(db, sql: """
                    SELECT parent_id FROM messages
                    WHERE conversation_id = ? AND idx = ? AND role = 'user' AND active = 1
                    """, arguments: [conversationID.lowercased, replacingFrom])
                else { throw ParleyError.conflict("the replaced message is not on the active branch") }
                parent = replaced[0]
                try db.execute(sql: "UPDATE messages SET active = 0 WHERE conversation_id = ? AND active = 1 AND idx >= ?",
                               arguments: [conversationID.lowercased, replacingFrom])
                let replacedCount = db.changesCount
                try db.execute(sql: "UPDATE conversations SET message_count = message_count - ? WHERE id = ?",
                               arguments: [replacedCount, conversationID.lowercased])
            } else {
                parent = try String.fetchOne(db.cachedStatement(sql: """
                    SELECT id FROM messages WHERE conversation_id = ? AND active = 1 AND idx < ? ORDER BY idx DESC LIMIT 1
                    """), arguments: [conversationID.lowercased, lastIndex - 1])
            }
            let history = historyLimit > 0
                ? try Self.contextRows(db, conversationID: conversationID, before: lastIndex - 1, limit: historyLimit)
                : []
            var user = Message(id: .v7(now: now), conversationID: conversationID, index: lastIndex - 1,
                               parentID: parent.flatMap { UUID(text: $0) },
                               role: .user, content: userContent, model: nil, status: .complete,
                               createdAt: now, updatedAt: now)
            user.attachments = attachments
            let assistant = Message(id: .v7(now: now), conversationID: conversationID, index: lastIndex,
                                    parentID: user.id, role: .assistant, content: "",
                                    model: model ?? conversationModel ?? defaultModel,
                                    status: .streaming, createdAt: now, updatedAt: now,
                                    parameters: parameters.map { ChatParameters(column: $0) })
            let insert = try db.cachedStatement(sql: """
                INSERT INTO messages (id, conversation_id, idx, parent_id, role, content, model, status, created_at,
                                      updated_at, lease_expires_at, parameters, attachments)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for message in [user, assistant] {
                try insert.execute(arguments: [
                    message.id.lowercased, conversationID.lowercased, message.index, message.parentID?.lowercased,
                    message.role.rawValue, message.content, message.model, message.status.rawValue,
                    now.millis, now.millis, message.status == .streaming ? leaseExpiry : nil,
                    message.role == .assistant ? parameters : nil, message.role == .user ? attachmentsColumn : nil,
                ])
            }
            return Turn(user: user.roundedToMillis, assistant: assistant.roundedToMillis, systemPrompt: row.systemPrompt,
                        history: history, knowledgeBaseIDs: Conversation.knowledgeBaseIDs(column: row.knowledgeBases ?? ""),
                        parameters: ChatParameters(column: parameters), retrieval: RetrievalSettings(column: row.retrieval))
        }
        guard let turn else { throw ParleyError.notFound("no conversation with id \(conversationID.lowercased)") }
        searchIndexer.markStale(store: self)
        return turn
    }

    public func reopenAnswer(id: UUID, owner: UserID, lease: Duration) async throws -> Message {
        let now = Date().millis
        let row = try await write { db in
            try Row.fetchOne(db.cachedStatement(sql: """
                UPDATE messages SET status = 'streaming', error = NULL, finish_reason = NULL, lease_expires_at = ?,
                    updated_at = ?
                WHERE \(StoreText.reopenableAnswer(id: "?", owner: "?"))
                RETURNING \(StoreText.unqualified(Self.messageColumns))
                """), arguments: [now + lease.millis, now, id.lowercased, owner.rawValue]).map(Self.message(from:))
        }
        if let row { return row }
        throw StoreText.whyNotReopenable(try await message(id: id, owner: owner))
    }

    public func setSources(messageID: UUID, sources: String) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE messages SET sources = ? WHERE id = ?", arguments: [sources, messageID.lowercased])
        }
    }

    public func savePartialContent(_ updates: [PartialAnswer]) async throws {
        guard !updates.isEmpty else { return }
        let now = Date().millis
        try await write { db in
            let statement = try db.cachedStatement(sql: """
                UPDATE messages SET content = ?, reasoning = COALESCE(?, reasoning), updated_at = ?
                WHERE id = ? AND status = 'streaming'
                """)
            for update in updates {
                try statement.execute(arguments: [update.content, update.reasoning, now, update.id.lowercased])
            }
        }
    }

    public func finishMessage(id: UUID, _ completion: MessageCompletion) async throws -> Message {
        let now = Date().millis
        let row = try await write { db in
            try Self.first(db.cachedStatement(sql: """
                UPDATE messages SET content = ?, status = ?, error = ?, prompt_tokens = ?, completion_tokens = ?,
                    ttft_ms = ?, latency_ms = ?, updated_at = ?, lease_expires_at = NULL, cache = ?,
                    reasoning = ?, reasoning_ms = ?, finish_reason = ?
                WHERE id = ? RETURNING id, conversation_id, idx, parent_id, role, content, model, status, error,
                    prompt_tokens, completion_tokens, ttft_ms, latency_ms, created_at, updated_at, sources, parameters, cache,
                    reasoning, reasoning_ms, finish_reason, active, attachments
                """), arguments: [completion.content, completion.status.rawValue, completion.errorMessage,
                                 completion.promptTokens, completion.completionTokens,
                                 completion.timeToFirstTokenMs, completion.latencyMs, now, completion.cache,
                                 completion.reasoning, completion.reasoningMs, completion.finishReason, id.lowercased],
                           Self.message(from:))
        }
        guard let row else { throw ParleyError.notFound("no message with id \(id.lowercased)") }
        searchIndexer.markStale(store: self)
        return row
    }

    public func renewLeases(_ ids: [UUID], for duration: Duration) async throws -> [UUID: MessageStatus] {
        guard !ids.isEmpty else { return [:] }
        let expiry = Date().millis + duration.millis
        return try await write { db -> [UUID: MessageStatus] in
            let renew = try db.cachedStatement(sql: """
                UPDATE messages SET lease_expires_at = ? WHERE id = ? AND status = 'streaming' RETURNING id
                """)
            let status = try db.cachedStatement(sql: "SELECT status FROM messages WHERE id = ?")
            var statuses: [UUID: MessageStatus] = [:]
            for id in ids {
                if try String.fetchOne(renew, arguments: [expiry, id.lowercased]) != nil {
                    statuses[id] = .streaming
                } else if let text = try String.fetchOne(status, arguments: [id.lowercased]) {
                    statuses[id] = MessageStatus(rawValue: text) ?? .interrupted
                }
            }
            return statuses
        }
    }

    public func interruptExpiredGenerations() async throws -> [UUID] {
        let now = Date().millis
        let ids = try await write { db in
            try String.fetchAll(db, sql: """
                UPDATE messages SET status = 'interrupted', updated_at = ?, lease_expires_at = NULL,
                    error = 'the server generating this answer stopped before it finished'
                WHERE status = 'streaming' AND (lease_expires_at IS NULL OR lease_expires_at < ?)
                RETURNING id
                """, arguments: [now, now])
        }
        if !ids.isEmpty { searchIndexer.markStale(store: self) }
        return ids.compactMap(UUID.init(text:))
    }

    public func endStreaming(id: UUID, status: MessageStatus, errorMessage: String?) async throws -> Bool {
        let now = Date().millis
        defer { searchIndexer.markStale(store: self) }
        return try await write { db in
            try db.execute(sql: """
                UPDATE messages SET status = ?, error = ?, updated_at = ?, lease_expires_at = NULL
                WHERE id = ? AND status = 'streaming'
                """, arguments: [status.rawValue, errorMessage, now, id.lowercased])
            return db.changesCount > 0
        }
    }
}
