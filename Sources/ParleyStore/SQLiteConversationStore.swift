import Foundation
import GRDB
import ParleyCore

/// The default store: one SQLite file in WAL mode, one writer and a pool of readers (GRDB's `DatabasePool`),
/// each on its own dispatch queue so no event loop ever waits on the disk.
public final class SQLiteConversationStore: ConversationStore {
    private let pool: DatabasePool
    private let writer: SQLiteWriteBatcher
    public let path: String

    /// Opens (creating if needed) the database at `path`.
    public init(path: String, maximumReaders: Int = 4) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.maximumReaderCount = maximumReaders
        configuration.label = "parley.sqlite"
        configuration.prepareDatabase { db in
            // WAL with NORMAL sync: durable across process crashes; a power loss may drop the last commits.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        self.pool = try DatabasePool(path: path, configuration: configuration)
        self.writer = SQLiteWriteBatcher(pool: pool)
        self.path = path
    }

    /// Reads on one of the reader connections; database failures become ``ParleyError/unavailable(_:)``.
    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as DatabaseError {
            throw Self.unavailable(error)
        }
    }

    /// Writes through the group-commit writer; database failures become ``ParleyError/unavailable(_:)``.
    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await writer.write(body)
        } catch let error as DatabaseError {
            throw Self.unavailable(error)
        }
    }

    private static func unavailable(_ error: DatabaseError) -> ParleyError {
        .unavailable("the database failed: \(error.message ?? error.resultCode.description)")
    }

    public func migrate() async throws {
        // Runs once at start-up, before the server accepts requests.
        try SQLiteMigrations.migrator.migrate(pool)
    }

    public func ping() async throws {
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    // MARK: Conversations

    public func createConversation(_ new: NewConversation, owner: UserID) async throws -> Conversation {
        let now = Date()
        let conversation = Conversation(id: .v7(now: now), ownerID: owner, title: new.title ?? "", model: new.model,
                                        systemPrompt: new.systemPrompt, messageCount: 0,
                                        createdAt: now, updatedAt: now)
        try await write { db in
            try db.execute(sql: """
                INSERT INTO conversations (id, owner_id, title, model, system_prompt, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [conversation.id.lowercased, owner.rawValue, conversation.title, conversation.model,
                                 conversation.systemPrompt, now.millis, now.millis])
        }
        return conversation.roundedToMillis
    }

    public func listConversations(owner: UserID, query: ConversationQuery) async throws -> Page<Conversation> {
        let rows = try await read { db -> [Conversation] in
            var sql = "SELECT * FROM conversations WHERE owner_id = ?"
            var arguments: StatementArguments = [owner.rawValue]
            if let after = query.after {
                sql += " AND (updated_at < ? OR (updated_at = ? AND id < ?))"
                arguments += [after.updatedAtMillis, after.updatedAtMillis, after.id.lowercased]
            }
            if let search = query.search, !search.isEmpty {
                sql += " AND title LIKE ? ESCAPE '\\' COLLATE NOCASE"
                arguments += ["%" + Self.escapeLike(search) + "%"]
            }
            sql += " ORDER BY updated_at DESC, id DESC LIMIT ?"
            arguments += [query.limit + 1]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.conversation(from:))
        }
        let items = Array(rows.prefix(query.limit))
        var next: String?
        if rows.count > query.limit, let last = items.last {
            next = ConversationCursor(updatedAtMillis: last.updatedAt.millis, id: last.id).token
        }
        return Page(items: items, nextCursor: next)
    }

    public func conversation(id: UUID, owner: UserID) async throws -> Conversation {
        let found = try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM conversations WHERE id = ? AND owner_id = ?"),
                             arguments: [id.lowercased, owner.rawValue]).map(Self.conversation(from:))
        }
        guard let found else { throw ParleyError.notFound("no conversation with id \(id.lowercased)") }
        return found
    }

    public func updateConversation(id: UUID, owner: UserID, patch: ConversationPatch) async throws -> Conversation {
        let now = Date().millis
        let updated = try await write { db -> Conversation? in
            var sets = ["updated_at = ?"]
            var arguments: StatementArguments = [now]
            if let title = patch.title { sets.append("title = ?"); arguments += [title] }
            if let model = patch.model { sets.append("model = ?"); arguments += [model] }
            if let prompt = patch.systemPrompt { sets.append("system_prompt = ?"); arguments += [prompt] }
            arguments += [id.lowercased, owner.rawValue]
            return try Row.fetchOne(db, sql: """
                UPDATE conversations SET \(sets.joined(separator: ", ")) WHERE id = ? AND owner_id = ? RETURNING *
                """, arguments: arguments).map(Self.conversation(from:))
        }
        guard let updated else { throw ParleyError.notFound("no conversation with id \(id.lowercased)") }
        return updated
    }

    public func deleteConversation(id: UUID, owner: UserID) async throws {
        let deleted = try await write { db -> Int in
            try db.execute(sql: "DELETE FROM conversations WHERE id = ? AND owner_id = ?",
                           arguments: [id.lowercased, owner.rawValue])
            return db.changesCount
        }
        if deleted == 0 { throw ParleyError.notFound("no conversation with id \(id.lowercased)") }
    }

    // MARK: Messages

    public func messages(conversationID: UUID, owner: UserID, before: Int?, limit: Int) async throws -> MessagePage {
        let rows = try await read { db -> [Message]? in
            guard try Self.owns(db, conversationID: conversationID, owner: owner) else { return nil }
            return try Row.fetchAll(db, sql: """
                SELECT \(Self.messageColumns), f.rating, f.comment, f.updated_at
                FROM messages m LEFT JOIN feedback f ON f.message_id = m.id AND f.user_id = ?
                WHERE m.conversation_id = ? AND m.idx < ?
                ORDER BY m.idx DESC LIMIT ?
                """, arguments: [owner.rawValue, conversationID.lowercased, before ?? Int.max, limit + 1])
                .map(Self.message(from:))
        }
        guard let rows else { throw ParleyError.notFound("no conversation with id \(conversationID.lowercased)") }
        let messages = Array(rows.prefix(limit).reversed())
        return MessagePage(messages: messages, hasMore: rows.count > limit)
    }

    public func contextMessages(conversationID: UUID, before: Int, limit: Int) async throws
        -> [(index: Int, message: ChatMessage)]
    {
        try await read { db in try Self.contextRows(db, conversationID: conversationID, before: before, limit: limit) }
    }

    private static func contextRows(_ db: Database, conversationID: UUID, before: Int, limit: Int) throws
        -> [(index: Int, message: ChatMessage)]
    {
        let statement = try db.cachedStatement(sql: """
            SELECT role, content, idx FROM messages
            WHERE conversation_id = ? AND idx < ? AND role != 'system' AND content != '' AND status != 'streaming'
            ORDER BY idx DESC LIMIT ?
            """)
        return try Row.fetchAll(statement, arguments: [conversationID.lowercased, before, limit]).map { row in
            let roleText: String = row[0]
            return (row[2], ChatMessage(role: Role(rawValue: roleText) ?? .user, content: row[1]))
        }
    }

    public func clearMessages(conversationID: UUID, owner: UserID) async throws {
        let now = Date().millis
        let found = try await write { db -> Bool in
            try db.execute(sql: """
                UPDATE conversations SET message_count = 0, updated_at = ? WHERE id = ? AND owner_id = ?
                """, arguments: [now, conversationID.lowercased, owner.rawValue])
            guard db.changesCount > 0 else { return false }
            try db.execute(sql: "DELETE FROM messages WHERE conversation_id = ?", arguments: [conversationID.lowercased])
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

    public func startTurn(conversationID: UUID, owner: UserID, userContent: String, model: String?,
                          defaultModel: String?, historyLimit: Int) async throws -> Turn {
        let now = Date()
        let title = Self.title(from: userContent)
        let turn = try await write { db -> Turn? in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                UPDATE conversations
                SET last_index = last_index + 2, message_count = message_count + 2, updated_at = ?,
                    title = CASE WHEN title = '' THEN ? ELSE title END
                WHERE id = ? AND owner_id = ? RETURNING last_index, model, system_prompt
                """), arguments: [now.millis, title, conversationID.lowercased, owner.rawValue])
            else { return nil }
            let lastIndex: Int = row[0]
            let conversationModel: String? = row[1]
            let history = historyLimit > 0
                ? try Self.contextRows(db, conversationID: conversationID, before: lastIndex - 1, limit: historyLimit)
                : []
            let user = Message(id: .v7(now: now), conversationID: conversationID, index: lastIndex - 1, parentID: nil,
                               role: .user, content: userContent, model: nil, status: .complete,
                               createdAt: now, updatedAt: now)
            let assistant = Message(id: .v7(now: now), conversationID: conversationID, index: lastIndex,
                                    parentID: user.id, role: .assistant, content: "",
                                    model: model ?? conversationModel ?? defaultModel,
                                    status: .streaming, createdAt: now, updatedAt: now)
            let insert = try db.cachedStatement(sql: """
                INSERT INTO messages (id, conversation_id, idx, parent_id, role, content, model, status, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for message in [user, assistant] {
                try insert.execute(arguments: [
                    message.id.lowercased, conversationID.lowercased, message.index, message.parentID?.lowercased,
                    message.role.rawValue, message.content, message.model, message.status.rawValue,
                    now.millis, now.millis,
                ])
            }
            return Turn(user: user.roundedToMillis, assistant: assistant.roundedToMillis, systemPrompt: row[2],
                        history: history)
        }
        guard let turn else { throw ParleyError.notFound("no conversation with id \(conversationID.lowercased)") }
        return turn
    }

    public func savePartialContent(_ updates: [(id: UUID, content: String)]) async throws {
        guard !updates.isEmpty else { return }
        let now = Date().millis
        try await write { db in
            let statement = try db.cachedStatement(sql: """
                UPDATE messages SET content = ?, updated_at = ? WHERE id = ? AND status = 'streaming'
                """)
            for update in updates {
                try statement.execute(arguments: [update.content, now, update.id.lowercased])
            }
        }
    }

    public func finishMessage(id: UUID, _ completion: MessageCompletion) async throws -> Message {
        let now = Date().millis
        let row = try await write { db in
            try Row.fetchOne(db.cachedStatement(sql: """
                UPDATE messages SET content = ?, status = ?, error = ?, prompt_tokens = ?, completion_tokens = ?,
                    ttft_ms = ?, latency_ms = ?, updated_at = ?
                WHERE id = ? RETURNING id, conversation_id, idx, parent_id, role, content, model, status, error,
                    prompt_tokens, completion_tokens, ttft_ms, latency_ms, created_at, updated_at
                """), arguments: [completion.content, completion.status.rawValue, completion.errorMessage,
                                 completion.promptTokens, completion.completionTokens,
                                 completion.timeToFirstTokenMs, completion.latencyMs, now, id.lowercased])
                .map(Self.message(from:))
        }
        guard let row else { throw ParleyError.notFound("no message with id \(id.lowercased)") }
        return row
    }

    public func interruptStreamingMessages() async throws -> Int {
        let now = Date().millis
        return try await write { db in
            try db.execute(sql: """
                UPDATE messages SET status = 'interrupted', updated_at = ?,
                    error = 'the server stopped while this answer was being generated'
                WHERE status = 'streaming'
                """, arguments: [now])
            return db.changesCount
        }
    }

    // MARK: Feedback

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

    // MARK: Rows

    private static func owns(_ db: Database, conversationID: UUID, owner: UserID) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM conversations WHERE id = ? AND owner_id = ?",
                          arguments: [conversationID.lowercased, owner.rawValue]) != nil
    }

    private static func uuid(_ row: Row, _ column: String) throws -> UUID {
        let text: String = row[column]
        guard let id = UUID(text: text) else { throw StoreError.corrupt("bad id \(text) in \(column)") }
        return id
    }

    static func conversation(from row: Row) throws -> Conversation {
        Conversation(id: try uuid(row, "id"), ownerID: UserID(row["owner_id"]), title: row["title"],
                     model: row["model"], systemPrompt: row["system_prompt"], messageCount: row["message_count"],
                     createdAt: Date(millis: row["created_at"]), updatedAt: Date(millis: row["updated_at"]))
    }

    /// The message columns in table order, so `RETURNING *` rows decode the same way; feedback may follow.
    static let messageColumns = """
        m.id, m.conversation_id, m.idx, m.parent_id, m.role, m.content, m.model, m.status, m.error, \
        m.prompt_tokens, m.completion_tokens, m.ttft_ms, m.latency_ms, m.created_at, m.updated_at
        """

    /// Decodes a row of ``messageColumns`` (plus rating, comment, updated_at of feedback) by position.
    static func message(from row: Row) throws -> Message {
        let idText: String = row[0]
        let conversationText: String = row[1]
        let parent: String? = row[3]
        let roleText: String = row[4]
        let statusText: String = row[7]
        guard let id = UUID(text: idText), let conversationID = UUID(text: conversationText),
              let role = Role(rawValue: roleText), let status = MessageStatus(rawValue: statusText) else {
            throw StoreError.corrupt("bad message row \(idText): \(roleText), \(statusText)")
        }
        var feedback: Feedback?
        if row.count > 15, let rating: Int = row[15] {
            feedback = Feedback(rating: rating, comment: row[16], updatedAt: Date(millis: row[17]))
        }
        return Message(id: id, conversationID: conversationID, index: row[2], parentID: parent.flatMap { UUID(text: $0) },
                       role: role, content: row[5], model: row[6], status: status, errorMessage: row[8],
                       promptTokens: row[9], completionTokens: row[10], timeToFirstTokenMs: row[11],
                       latencyMs: row[12], createdAt: Date(millis: row[13]), updatedAt: Date(millis: row[14]),
                       feedback: feedback)
    }

    static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }

    /// A title made from the first user message: its first line, at most 80 characters.
    static func title(from content: String) -> String {
        let firstLine = content.split(whereSeparator: \.isNewline).first.map(String.init) ?? content
        let trimmed = firstLine.trimmingCharacters(in: .whitespaces)
        return trimmed.count > 80 ? String(trimmed.prefix(79)) + "…" : trimmed
    }
}

/// A row the store cannot read back.
public enum StoreError: Error, CustomStringConvertible {
    case corrupt(String)
    public var description: String {
        switch self { case .corrupt(let detail): return "corrupt data: \(detail)" }
    }
}
