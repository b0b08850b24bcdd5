import Foundation
import CParleyFullText
import CParleySQLite
import GRDB
import ParleyCore

/// The default store: one SQLite file in WAL mode, one writer and a pool of readers (GRDB's `DatabasePool`),
/// each on its own dispatch queue so no event loop ever waits on the disk.
public final class SQLiteConversationStore: ConversationStore {
    private let pool: DatabasePool
    private let writer: SQLiteWriteBatcher
    /// Adds finished messages to the full-text index in batches.
    let searchIndexer = SQLiteSearchIndexer()
    /// Recent counts of knowledge full-text words, for ``FullTextPlan``.
    let wordCounts = WordCounts()
    public let path: String

    /// Whether SQLite's memory statistics were turned off, done once before the first store opens its file (it
    /// can be done only before SQLite is first used in the process; `parley serve` opens its store first).
    static let memoryStatisticsTurnedOff = parley_sqlite_turn_off_memory_statistics() == SQLITE_OK

    /// Opens (creating if needed) the database at `path`.
    public init(path: String, maximumReaders: Int = 4) throws {
        _ = Self.memoryStatisticsTurnedOff
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.maximumReaderCount = maximumReaders
        configuration.label = "parley.sqlite"
        configuration.prepareDatabase { db in
            // WAL with NORMAL sync: durable across process crashes; a power loss may drop the last commits.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Reads map the file (up to SQLite's limit, 2 GB in Debian's build) instead of copying each page with a
            // system call: a knowledge search over a large base reads a thousand scattered passages. The mapped pages
            // are the page cache's, shared and reclaimable, not the process's own memory.
            try db.execute(sql: "PRAGMA mmap_size = 2147418112")
            // Knowledge search ranks with it (``FullTextPlan/rankingCounts(_:)``).
            let registered = parley_register_bm25(db.sqliteConnection)
            guard registered == SQLITE_OK else {
                throw DatabaseError(resultCode: ResultCode(rawValue: registered), message: "FTS5's ranking API is missing")
            }
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        self.pool = try DatabasePool(path: path, configuration: configuration)
        self.writer = SQLiteWriteBatcher(pool: pool)
        self.path = path
    }

    /// Reads on one of the reader connections; database failures become ``ParleyError/unavailable(_:)``.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as DatabaseError {
            throw Self.unavailable(error)
        }
    }

    /// Writes through the group-commit writer; database failures become ``ParleyError/unavailable(_:)``.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
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
        // Index whatever an earlier run (or an upgrade) left unindexed.
        searchIndexer.markStale(store: self)
    }

    public func ping() async throws {
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    // MARK: Conversations

    public func createConversation(_ new: NewConversation, owner: UserID) async throws -> Conversation {
        let now = Date()
        let conversation = {
            var conversation = Conversation(id: .v7(now: now), ownerID: owner, title: new.title ?? "", model: new.model,
                                            systemPrompt: new.systemPrompt, messageCount: 0,
                                            createdAt: now, updatedAt: now, knowledgeBaseIDs: new.knowledgeBaseIDs,
                                            parameters: new.parameters)
            conversation.retrieval = new.retrieval
            conversation.tags = new.tags
            return conversation
        }()
        try await write { db in
            // Through the connection's statement cache: the insert (and its full-text trigger) is compiled once.
            try db.cachedStatement(sql: """
                INSERT INTO conversations (id, owner_id, title, model, system_prompt, created_at, updated_at,
                                           knowledge_base_ids, parameters, retrieval, title_set_by_user, tags)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [conversation.id.lowercased, owner.rawValue, conversation.title, conversation.model,
                                          conversation.systemPrompt, now.millis, now.millis,
                                          Conversation.knowledgeBaseColumn(new.knowledgeBaseIDs), new.parameters.column,
                                          new.retrieval.column, !conversation.title.isEmpty, Conversation.tagColumn(new.tags)])
        }
        return conversation.roundedToMillis
    }

    public func listConversations(owner: UserID, query: ConversationQuery) async throws -> Page<Conversation> {
        let rows = try await read { db -> [Conversation] in
            var sql = "SELECT * FROM conversations WHERE owner_id = ? AND visitor_of IS NULL"
            var arguments: StatementArguments = [owner.rawValue]
            if let after = query.after {
                // A row value: an index range on (owner_id, updated_at, id), however deep the page.
                sql += " AND (updated_at, id) < (?, ?)"
                arguments += [after.updatedAtMillis, after.id.lowercased]
            }
            if let search = query.search, !search.isEmpty {
                sql += " AND title LIKE ? ESCAPE '\\' COLLATE NOCASE"
                arguments += ["%" + StoreText.escapeLike(search) + "%"]
            }
            sql += query.archived ? " AND archived_at IS NOT NULL" : " AND archived_at IS NULL"
            if let pinned = query.pinned { sql += pinned ? " AND pinned = 1" : " AND pinned = 0" }
            if let tag = query.tag {
                sql += " AND tags LIKE ? ESCAPE '\\'"
                arguments += ["%," + StoreText.escapeLike(tag) + ",%"]
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
            // Pinning, archiving and tagging leave the conversation where it is in the list.
            var sets = patch.changesContent ? ["updated_at = ?"] : ["updated_at = updated_at"]
            var arguments: StatementArguments = patch.changesContent ? [now] : []
            if let title = patch.title { sets.append("title = ?, title_set_by_user = 1"); arguments += [title] }
            if let model = patch.model { sets.append("model = ?"); arguments += [model] }
            if let prompt = patch.systemPrompt { sets.append("system_prompt = ?"); arguments += [prompt] }
            if let bases = patch.knowledgeBaseIDs {
                sets.append("knowledge_base_ids = ?")
                arguments += [Conversation.knowledgeBaseColumn(bases)]
            }
            if let parameters = patch.parameters { sets.append("parameters = ?"); arguments += [parameters.column] }
            if let retrieval = patch.retrieval { sets.append("retrieval = ?"); arguments += [retrieval.column] }
            if let pinned = patch.pinned { sets.append("pinned = ?"); arguments += [pinned] }
            if let archived = patch.archived {
                // Archiving again keeps the first time; restoring clears it.
                sets.append(archived ? "archived_at = COALESCE(archived_at, ?)" : "archived_at = NULL")
                if archived { arguments += [now] }
            }
            if let tags = patch.tags { sets.append("tags = ?"); arguments += [Conversation.tagColumn(tags)] }
            arguments += [id.lowercased, owner.rawValue]
            return try Row.fetchOne(db, sql: """
                UPDATE conversations SET \(sets.joined(separator: ", ")) WHERE id = ? AND owner_id = ? RETURNING *
                """, arguments: arguments).map(Self.conversation(from:))
        }
        guard let updated else { throw ParleyError.notFound("no conversation with id \(id.lowercased)") }
        return updated
    }

    public func setGeneratedTitle(conversationID: UUID, owner: UserID, title: String) async throws -> Bool {
        try await write { db -> Bool in
            try db.execute(sql: "UPDATE conversations SET title = ? WHERE id = ? AND owner_id = ? AND title_set_by_user = 0",
                           arguments: [title, conversationID.lowercased, owner.rawValue])
            return db.changesCount > 0
        }
    }

    public func deleteConversation(id: UUID, owner: UserID) async throws {
        let deleted = try await write { db -> Int in
            try db.execute(sql: "DELETE FROM conversations WHERE id = ? AND owner_id = ?",
                           arguments: [id.lowercased, owner.rawValue])
            return db.changesCount
        }
        if deleted == 0 { throw ParleyError.notFound("no conversation with id \(id.lowercased)") }
    }
}

/// A row the store cannot read back.
public enum StoreError: Error, CustomStringConvertible {
    case corrupt(String)
    public var description: String {
        switch self { case .corrupt(let detail): return "corrupt data: \(detail)" }
    }
}
