import Foundation
import Logging
import ParleyAccounts
import ParleyCore
import PostgresNIO
import Synchronization

/// The store for several replicas: PostgreSQL through PostgresNIO's pooled `PostgresClient`.
/// Start its pool with ``startPool()`` and keep the task for the life of the store. Same contract as the SQLite store.
public final class PostgresConversationStore: ConversationStore {
    public let client: PostgresClient
    let logger: Logger
    private let running = Mutex(false)
    /// Recent counts of knowledge full-text words, for ``FullTextPlan``.
    let wordCounts = WordCounts()

    public init(configuration: PostgresClient.Configuration, logger: Logger) {
        // The pool reports every failed connection attempt at info level; an outage is logged once elsewhere.
        var poolLogger = logger
        poolLogger.logLevel = max(logger.logLevel, .warning)
        self.client = PostgresClient(configuration: configuration, backgroundLogger: poolLogger)
        self.logger = logger
    }

    /// The pool configuration for a `postgres://user:password@host:port/database` URL (see ``PostgresURL``).
    public static func configuration(url: String) throws -> PostgresClient.Configuration {
        try PostgresURL(url).clientConfiguration
    }

    /// Starts the connection pool in a task of its own and returns once it runs, so that the first query
    /// does not race the pool's start. Cancel the task to close the pool.
    public func startPool() async -> Task<Void, Never> {
        let task = Task {
            running.withLock { $0 = true }
            await client.run()
        }
        while !running.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(1)) }
        try? await Task.sleep(for: .milliseconds(1))
        return task
    }

    /// Runs database work; failures to reach or use the database become ``ParleyError/unavailable(_:)``.
    @discardableResult
    func perform<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PSQLError {
            throw Self.unavailable(error)
        } catch let error as PostgresTransactionError {
            // A domain error thrown inside the transaction passes through; database failures become 503s.
            if let domain = error.closureError as? ParleyError { throw domain }
            if let domain = error.closureError as? AccountError { throw domain }
            let cause = error.beginError ?? error.closureError ?? error.commitError ?? error.rollbackError
            if let cause = cause as? PSQLError { throw Self.unavailable(cause) }
            throw ParleyError.unavailable("the database failed: \(cause.map { "\($0)" } ?? "transaction error")")
        }
    }

    private static func unavailable(_ error: PSQLError) -> ParleyError {
        .unavailable("the database failed: \(error.serverInfo?[.message] ?? "\(error.code)")")
    }

    public func migrate() async throws {
        try await perform {
            try await client.withConnection { connection in
                try await PostgresMigrations.apply(on: connection, logger: logger)
            }
        }
    }

    public func ping() async throws {
        try await perform { _ = try await client.query("SELECT 1", logger: logger).collect() }
    }

    // MARK: Conversations

    public func createConversation(_ new: NewConversation, owner: UserID) async throws -> Conversation {
        let now = Date(millis: Date().millis)
        var conversation = Conversation(id: .v7(now: now), ownerID: owner, title: new.title ?? "", model: new.model,
                                        systemPrompt: new.systemPrompt, messageCount: 0, createdAt: now, updatedAt: now,
                                        knowledgeBaseIDs: new.knowledgeBaseIDs, parameters: new.parameters)
        conversation.retrieval = new.retrieval
        conversation.tags = new.tags
        let retrieval = new.retrieval.column
        let tags = Conversation.tagColumn(new.tags)
        let bases = Conversation.knowledgeBaseColumn(new.knowledgeBaseIDs)
        let parameters = new.parameters.column
        try await perform {
            try await client.query("""
                INSERT INTO conversations (id, owner_id, title, model, system_prompt, created_at, updated_at,
                                           knowledge_base_ids, parameters, retrieval, title_set_by_user, tags)
                VALUES (\(conversation.id), \(owner.rawValue), \(conversation.title), \(conversation.model),
                        \(conversation.systemPrompt), \(now.millis), \(now.millis), \(bases), \(parameters), \(retrieval),
                        \(!conversation.title.isEmpty), \(tags))
                """, logger: logger)
        }
        return conversation
    }

    public func listConversations(owner: UserID, query: ConversationQuery) async throws -> Page<Conversation> {
        var sql = "SELECT * FROM conversations WHERE owner_id = $1 AND visitor_of IS NULL"
        var binds = PostgresBindings()
        binds.append(owner.rawValue)
        if let after = query.after {
            binds.append(after.updatedAtMillis)
            binds.append(after.id)
            // A row comparison: an index range on (owner_id, updated_at, id), however deep the page.
            sql += " AND (updated_at, id) < ($2, $3)"
        }
        if let search = query.search, !search.isEmpty {
            binds.append("%" + StoreText.escapeLike(search) + "%")
            sql += " AND title ILIKE $\(binds.count) ESCAPE '\\'"
        }
        sql += query.archived ? " AND archived_at IS NOT NULL" : " AND archived_at IS NULL"
        if let pinned = query.pinned { sql += pinned ? " AND pinned" : " AND NOT pinned" }
        if let tag = query.tag {
            binds.append("%," + StoreText.escapeLike(tag) + ",%")
            sql += " AND tags LIKE $\(binds.count) ESCAPE '\\'"
        }
        binds.append(query.limit + 1)
        sql += " ORDER BY updated_at DESC, id DESC LIMIT $\(binds.count)"
        let rows = try await perform {
            try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).collect()
        }
        let items = try rows.prefix(query.limit).map(Self.conversation(from:))
        var next: String?
        if rows.count > query.limit, let last = items.last {
            next = ConversationCursor(updatedAtMillis: last.updatedAt.millis, id: last.id).token
        }
        return Page(items: items, nextCursor: next)
    }

    public func conversation(id: UUID, owner: UserID) async throws -> Conversation {
        let rows = try await perform {
            try await client.query("SELECT * FROM conversations WHERE id = \(id) AND owner_id = \(owner.rawValue)",
                                   logger: logger).collect()
        }
        guard let row = rows.first else { throw ParleyError.notFound("no conversation with id \(id.lowercased)") }
        return try Self.conversation(from: row)
    }

    public func updateConversation(id: UUID, owner: UserID, patch: ConversationPatch) async throws -> Conversation {
        let now = Date().millis
        var binds = PostgresBindings()
        // Pinning, archiving and tagging leave the conversation where it is in the list.
        var sets = ["updated_at = updated_at"]
        if patch.changesContent {
            binds.append(now)
            sets = ["updated_at = $1"]
        }
        if let title = patch.title {
            binds.append(title)
            sets.append("title = $\(binds.count), title_set_by_user = true")
        }
        if let model = patch.model {
            binds.append(model)
            sets.append("model = $\(binds.count)")
        }
        if let prompt = patch.systemPrompt {
            binds.append(prompt)
            sets.append("system_prompt = $\(binds.count)")
        }
        if let bases = patch.knowledgeBaseIDs {
            binds.append(Conversation.knowledgeBaseColumn(bases))
            sets.append("knowledge_base_ids = $\(binds.count)")
        }
        if let parameters = patch.parameters {
            binds.append(parameters.column)
            sets.append("parameters = $\(binds.count)")
        }
        if let retrieval = patch.retrieval {
            binds.append(retrieval.column)
            sets.append("retrieval = $\(binds.count)")
        }
        if let pinned = patch.pinned {
            binds.append(pinned)
            sets.append("pinned = $\(binds.count)")
        }
        if let archived = patch.archived {
            // Archiving again keeps the first time; restoring clears it.
            if archived { binds.append(now) }
            sets.append(archived ? "archived_at = COALESCE(archived_at, $\(binds.count))" : "archived_at = NULL")
        }
        if let tags = patch.tags {
            binds.append(Conversation.tagColumn(tags))
            sets.append("tags = $\(binds.count)")
        }
        binds.append(id)
        binds.append(owner.rawValue)
        let sql = "UPDATE conversations SET \(sets.joined(separator: ", ")) WHERE id = $\(binds.count - 1) "
            + "AND owner_id = $\(binds.count) RETURNING *"
        let rows = try await perform {
            try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).collect()
        }
        guard let row = rows.first else { throw ParleyError.notFound("no conversation with id \(id.lowercased)") }
        return try Self.conversation(from: row)
    }

    public func setGeneratedTitle(conversationID: UUID, owner: UserID, title: String) async throws -> Bool {
        let rows = try await perform {
            try await client.query("""
                UPDATE conversations SET title = \(title)
                WHERE id = \(conversationID) AND owner_id = \(owner.rawValue) AND NOT title_set_by_user RETURNING id
                """, logger: logger).collect()
        }
        return !rows.isEmpty
    }

    public func deleteConversation(id: UUID, owner: UserID) async throws {
        let rows = try await perform {
            try await client.query("DELETE FROM conversations WHERE id = \(id) AND owner_id = \(owner.rawValue) RETURNING id",
                                   logger: logger).collect()
        }
        if rows.isEmpty { throw ParleyError.notFound("no conversation with id \(id.lowercased)") }
    }
}
