import Foundation
import GRDB
import ParleyCore
import ParleyRetrieval

/// Changing a knowledge base's embedding model in SQLite: a `kb_reembeddings` row per base under way, the new
/// vectors in `kb_chunks.next_vector` until the swap.
extension SQLiteConversationStore {
    public func changeEmbeddingModel(baseID: UUID, owner: UserID, model: String?) async throws -> KnowledgeBase {
        let now = Date().millis
        let found = try await write { db -> Bool in
            guard let current = try Row.fetchOne(db, sql: "SELECT embedding_model FROM kb_bases WHERE id = ? AND owner_id = ?",
                                                 arguments: [baseID.lowercased, owner.rawValue]) else { return false }
            let currentModel: String? = current["embedding_model"]
            let base = baseID.lowercased
            try db.execute(sql: "DELETE FROM kb_reembeddings WHERE base_id = ?", arguments: [base])
            try db.execute(sql: """
                UPDATE kb_chunks SET next_vector = NULL, next_vector_scale = NULL
                WHERE base_id = ? AND next_vector IS NOT NULL
                """, arguments: [base])
            if model == currentModel {
                try db.execute(sql: "UPDATE kb_bases SET updated_at = ? WHERE id = ?", arguments: [now, base])
                return true
            }
            let hasPassages = try Bool.fetchOne(db, sql: "SELECT 1 FROM kb_chunks WHERE base_id = ? LIMIT 1",
                                                arguments: [base]) != nil
            if let model, hasPassages {
                try db.execute(sql: """
                    INSERT INTO kb_reembeddings (base_id, model, status, created_at, updated_at) VALUES (?, ?, 'queued', ?, ?)
                    """, arguments: [base, model, now, now])
                try db.execute(sql: "UPDATE kb_bases SET updated_at = ? WHERE id = ?", arguments: [now, base])
            } else {
                // Nothing to embed again (or no vectors wanted): the change is made at once.
                try db.execute(sql: "UPDATE kb_chunks SET vector = NULL, vector_scale = NULL WHERE base_id = ?", arguments: [base])
                try db.execute(sql: "UPDATE kb_bases SET embedding_model = ?, embedding_dimensions = NULL WHERE id = ?",
                               arguments: [model, base])
                try Self.bumpIndex(db, baseID: baseID, now: now)
            }
            return true
        }
        guard found else { throw Self.noBase(baseID) }
        return try await knowledgeBase(id: baseID, reader: owner)
    }

    public func claimReembedding(holder: String, lease: Duration) async throws -> ReembeddingClaim? {
        let now = Date().millis
        return try await write { db -> ReembeddingClaim? in
            // Asked every poll, mostly of an empty queue: compiled once per connection.
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT base_id, model, attempts FROM kb_reembeddings
                WHERE (status = 'queued' AND not_before <= ?) OR (status = 'processing' AND lease_until < ?)
                ORDER BY created_at LIMIT 1
                """), arguments: [now, now]) else { return nil }
            let base: String = row["base_id"]
            try db.execute(sql: """
                UPDATE kb_reembeddings SET status = 'processing', lease_holder = ?, lease_until = ?, attempts = attempts + 1,
                    updated_at = ? WHERE base_id = ?
                """, arguments: [holder, now + lease.millis, now, base])
            return ReembeddingClaim(baseID: try Self.uuid(row, "base_id"), model: row["model"], attempts: row["attempts"] + 1)
        }
    }

    public func renewReembeddingLease(baseID: UUID, holder: String, lease: Duration) async throws -> Bool {
        let now = Date().millis
        return try await write { db in
            try db.execute(sql: """
                UPDATE kb_reembeddings SET lease_until = ? WHERE base_id = ? AND lease_holder = ? AND status = 'processing'
                """, arguments: [now + lease.millis, baseID.lowercased, holder])
            return db.changesCount > 0
        }
    }

    public func passagesToReembed(baseID: UUID, holder: String, limit: Int) async throws -> [PassageText]? {
        try await read { db -> [PassageText]? in
            guard try Self.holdsReembedding(db, baseID: baseID, holder: holder) else { return nil }
            return try Row.fetchAll(db, sql: """
                SELECT id, text, heading_path FROM kb_chunks WHERE base_id = ? AND next_vector IS NULL ORDER BY id LIMIT ?
                """, arguments: [baseID.lowercased, limit]).map { row in
                PassageText(id: row["id"], text: row["text"], headingPath: StoredPassage.headings(joined: row["heading_path"]))
            }
        }
    }

    public func storeReembedded(_ vectors: [PassageVector], baseID: UUID, holder: String) async throws -> Bool {
        try await write { db in
            guard try Self.holdsReembedding(db, baseID: baseID, holder: holder) else { return false }
            let update = try db.cachedStatement(sql: """
                UPDATE kb_chunks SET next_vector = ?, next_vector_scale = ? WHERE id = ? AND base_id = ?
                """)
            for passage in vectors {
                try update.execute(arguments: [Data(passage.vector.bytes), Double(passage.vector.scale), passage.id,
                                               baseID.lowercased])
            }
            return true
        }
    }

    public func finishReembedding(baseID: UUID, holder: String, dimensions: Int?) async throws -> ReembeddingOutcome {
        let now = Date().millis
        return try await write { db -> ReembeddingOutcome in
            let base = baseID.lowercased
            guard let model = try String.fetchOne(db, sql: """
                SELECT model FROM kb_reembeddings WHERE base_id = ? AND lease_holder = ? AND status = 'processing'
                """, arguments: [base, holder]) else { return .lost }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM kb_chunks WHERE base_id = ? AND next_vector IS NULL LIMIT 1",
                                 arguments: [base]) != nil {
                return .passagesLeft
            }
            try db.execute(sql: """
                UPDATE kb_chunks SET vector = next_vector, vector_scale = next_vector_scale, next_vector = NULL,
                    next_vector_scale = NULL WHERE base_id = ?
                """, arguments: [base])
            try db.execute(sql: "UPDATE kb_bases SET embedding_model = ?, embedding_dimensions = ? WHERE id = ?",
                           arguments: [model, dimensions, base])
            try db.execute(sql: "DELETE FROM kb_reembeddings WHERE base_id = ?", arguments: [base])
            try Self.bumpIndex(db, baseID: baseID, now: now)
            return .finished
        }
    }

    public func failReembedding(baseID: UUID, holder: String, error: String, retryAt: Date?) async throws {
        let now = Date().millis
        try await write { db in
            try db.execute(sql: """
                UPDATE kb_reembeddings SET status = ?, error = ?, not_before = ?, lease_holder = NULL, lease_until = NULL,
                    updated_at = ? WHERE base_id = ? AND lease_holder = ? AND status = 'processing'
                """, arguments: [retryAt == nil ? Reembedding.Status.failed.rawValue : Reembedding.Status.queued.rawValue,
                                 error, retryAt?.millis ?? 0, now, baseID.lowercased, holder])
        }
    }

    static func holdsReembedding(_ db: Database, baseID: UUID, holder: String) throws -> Bool {
        try Bool.fetchOne(db, sql: """
            SELECT 1 FROM kb_reembeddings WHERE base_id = ? AND lease_holder = ? AND status = 'processing'
            """, arguments: [baseID.lowercased, holder]) != nil
    }

    /// The base's re-embedding under way, with its progress; nil when there is none.
    static func reembedding(_ db: Database, baseID: UUID) throws -> Reembedding? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT j.*, (SELECT count(*) FROM kb_chunks c WHERE c.base_id = j.base_id) AS total,
                (SELECT count(*) FROM kb_chunks c WHERE c.base_id = j.base_id AND c.next_vector IS NOT NULL) AS embedded
            FROM kb_reembeddings j WHERE j.base_id = ?
            """, arguments: [baseID.lowercased]) else { return nil }
        let statusText: String = row["status"]
        guard let status = Reembedding.Status(rawValue: statusText) else { throw StoreError.corrupt("bad re-embedding status \(statusText)") }
        return Reembedding(model: row["model"], status: status, embedded: row["embedded"], total: row["total"],
                           attempts: row["attempts"], error: row["error"])
    }
}
