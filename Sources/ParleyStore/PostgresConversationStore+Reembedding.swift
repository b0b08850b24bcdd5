import Foundation
import NIOCore
import ParleyCore
import ParleyRetrieval
import PostgresNIO

/// Changing a knowledge base's embedding model in PostgreSQL. The swap locks the base row, and so does storing a
/// document's passages (`FOR SHARE`), so passages embedded with the old model cannot slip in after the swap.
extension PostgresConversationStore {
    public func changeEmbeddingModel(baseID: UUID, owner: UserID, model: String?) async throws -> KnowledgeBase {
        let now = Date().millis
        let found = try await perform {
            try await client.withTransaction(logger: logger) { connection -> Bool in
                var currentModel: String??
                for try await found in try await connection.query("""
                    SELECT embedding_model FROM kb_bases WHERE id = \(baseID) AND owner_id = \(owner.rawValue) FOR UPDATE
                    """, logger: logger).decode(String?.self) { currentModel = .some(found) }
                guard let currentModel else { return false }
                try await connection.query("DELETE FROM kb_reembeddings WHERE base_id = \(baseID)", logger: logger)
                try await connection.query("""
                    UPDATE kb_chunks SET next_vector = NULL, next_vector_scale = NULL
                    WHERE base_id = \(baseID) AND next_vector IS NOT NULL
                    """, logger: logger)
                try await connection.query("UPDATE kb_bases SET updated_at = \(now) WHERE id = \(baseID)", logger: logger)
                if model == currentModel { return true }
                let hasPassages = try await !connection.query("SELECT 1 FROM kb_chunks WHERE base_id = \(baseID) LIMIT 1",
                                                               logger: logger).collect().isEmpty
                if let model, hasPassages {
                    try await connection.query("""
                        INSERT INTO kb_reembeddings (base_id, model, status, created_at, updated_at)
                        VALUES (\(baseID), \(model), 'queued', \(now), \(now))
                        """, logger: logger)
                } else {
                    // Nothing to embed again (or no vectors wanted): the change is made at once.
                    try await connection.query("""
                        UPDATE kb_chunks SET vector = NULL, vector_scale = NULL WHERE base_id = \(baseID)
                        """, logger: logger)
                    try await connection.query("""
                        UPDATE kb_bases SET embedding_model = \(model), embedding_dimensions = NULL,
                            index_version = index_version + 1 WHERE id = \(baseID)
                        """, logger: logger)
                }
                return true
            }
        }
        guard found else { throw Self.noBase(baseID) }
        return try await knowledgeBase(id: baseID, reader: owner)
    }

    public func claimReembedding(holder: String, lease: Duration) async throws -> ReembeddingClaim? {
        let now = Self.databaseNowMillis
        let rows = try await perform {
            try await client.query(PostgresQuery(unsafeSQL: """
                UPDATE kb_reembeddings SET status = 'processing', lease_holder = $1, lease_until = \(now) + $2,
                    attempts = attempts + 1, updated_at = \(now)
                WHERE base_id = (
                    SELECT base_id FROM kb_reembeddings
                    WHERE (status = 'queued' AND not_before <= \(now)) OR (status = 'processing' AND lease_until < \(now))
                    ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED
                ) RETURNING base_id, model, attempts
                """, binds: Self.bindings(holder, lease.millis)), logger: logger).collect()
        }
        guard let row = rows.first else { return nil }
        let (baseID, model, attempts) = try row.decode((UUID, String, Int).self)
        return ReembeddingClaim(baseID: baseID, model: model, attempts: attempts)
    }

    public func renewReembeddingLease(baseID: UUID, holder: String, lease: Duration) async throws -> Bool {
        let rows = try await perform {
            try await client.query(PostgresQuery(unsafeSQL: """
                UPDATE kb_reembeddings SET lease_until = \(Self.databaseNowMillis) + $3
                WHERE base_id = $1 AND lease_holder = $2 AND status = 'processing' RETURNING base_id
                """, binds: Self.bindings(baseID, holder, lease.millis)), logger: logger).collect()
        }
        return !rows.isEmpty
    }

    public func passagesToReembed(baseID: UUID, holder: String, limit: Int) async throws -> [PassageText]? {
        guard try await holdsReembedding(baseID: baseID, holder: holder) else { return nil }
        let rows = try await perform {
            try await client.query("""
                SELECT id, text, heading_path FROM kb_chunks WHERE base_id = \(baseID) AND next_vector IS NULL
                ORDER BY id LIMIT \(limit)
                """, logger: logger).collect()
        }
        return try rows.map { row in
            let (id, text, headings) = try row.decode((Int64, String, String).self)
            return PassageText(id: id, text: text, headingPath: StoredPassage.headings(joined: headings))
        }
    }

    public func storeReembedded(_ vectors: [PassageVector], baseID: UUID, holder: String) async throws -> Bool {
        try await perform {
            try await client.withTransaction(logger: logger) { connection -> Bool in
                let held = try await connection.query("""
                    SELECT 1 FROM kb_reembeddings WHERE base_id = \(baseID) AND lease_holder = \(holder)
                      AND status = 'processing' FOR SHARE
                    """, logger: logger).collect()
                guard !held.isEmpty else { return false }
                var binds = PostgresBindings()
                binds.append(baseID)
                binds.append(vectors.map(\.id))
                binds.append(vectors.map { ByteBuffer(bytes: $0.vector.bytes) })
                binds.append(vectors.map(\.vector.scale))
                try await connection.query(PostgresQuery(unsafeSQL: """
                    UPDATE kb_chunks c SET next_vector = u.v, next_vector_scale = u.f
                    FROM unnest($2::bigint[], $3::bytea[], $4::real[]) AS u(i, v, f)
                    WHERE c.id = u.i AND c.base_id = $1
                    """, binds: binds), logger: logger)
                return true
            }
        }
    }

    public func finishReembedding(baseID: UUID, holder: String, dimensions: Int?) async throws -> ReembeddingOutcome {
        let now = Date().millis
        return try await perform {
            try await client.withTransaction(logger: logger) { connection -> ReembeddingOutcome in
                // The base row first: passages being stored for a document wait, or are seen below.
                try await connection.query("SELECT 1 FROM kb_bases WHERE id = \(baseID) FOR UPDATE", logger: logger)
                var model: String?
                for try await found in try await connection.query("""
                    SELECT model FROM kb_reembeddings WHERE base_id = \(baseID) AND lease_holder = \(holder)
                      AND status = 'processing'
                    """, logger: logger).decode(String.self) { model = found }
                guard let model else { return .lost }
                let left = try await connection.query("""
                    SELECT 1 FROM kb_chunks WHERE base_id = \(baseID) AND next_vector IS NULL LIMIT 1
                    """, logger: logger).collect()
                guard left.isEmpty else { return .passagesLeft }
                try await connection.query("""
                    UPDATE kb_chunks SET vector = next_vector, vector_scale = next_vector_scale, next_vector = NULL,
                        next_vector_scale = NULL WHERE base_id = \(baseID)
                    """, logger: logger)
                try await connection.query("""
                    UPDATE kb_bases SET embedding_model = \(model), embedding_dimensions = \(dimensions),
                        index_version = index_version + 1, updated_at = \(now) WHERE id = \(baseID)
                    """, logger: logger)
                try await connection.query("DELETE FROM kb_reembeddings WHERE base_id = \(baseID)", logger: logger)
                return .finished
            }
        }
    }

    public func failReembedding(baseID: UUID, holder: String, error: String, retryAt: Date?) async throws {
        let now = Date().millis
        let status = retryAt == nil ? Reembedding.Status.failed.rawValue : Reembedding.Status.queued.rawValue
        let notBefore = retryAt?.millis ?? 0
        try await perform {
            try await client.query("""
                UPDATE kb_reembeddings SET status = \(status), error = \(error), not_before = \(notBefore),
                    lease_holder = NULL, lease_until = NULL, updated_at = \(now)
                WHERE base_id = \(baseID) AND lease_holder = \(holder) AND status = 'processing'
                """, logger: logger)
        }
    }

    private func holdsReembedding(baseID: UUID, holder: String) async throws -> Bool {
        try await perform {
            try await !client.query("""
                SELECT 1 FROM kb_reembeddings WHERE base_id = \(baseID) AND lease_holder = \(holder) AND status = 'processing'
                """, logger: logger).collect().isEmpty
        }
    }

    /// The base's re-embedding under way, with its progress; nil when there is none.
    func reembedding(baseID: UUID) async throws -> Reembedding? {
        let rows = try await perform {
            try await client.query("""
                SELECT j.model, j.status, j.attempts, j.error,
                    (SELECT count(*) FROM kb_chunks c WHERE c.base_id = j.base_id),
                    (SELECT count(*) FROM kb_chunks c WHERE c.base_id = j.base_id AND c.next_vector IS NOT NULL)
                FROM kb_reembeddings j WHERE j.base_id = \(baseID)
                """, logger: logger).collect()
        }
        guard let row = rows.first else { return nil }
        let (model, statusText, attempts, error, total, embedded) = try row.decode((String, String, Int, String?, Int, Int).self)
        guard let status = Reembedding.Status(rawValue: statusText) else { throw StoreError.corrupt("bad re-embedding status \(statusText)") }
        return Reembedding(model: model, status: status, embedded: embedded, total: total, attempts: attempts, error: error)
    }
}
