import Foundation
import NIOCore
import ParleyCore
import ParleyRetrieval
import PostgresNIO

/// Knowledge bases and their documents in PostgreSQL. Same contract as the SQLite store; leases are timed by the
/// database's clock, and a claim skips rows another replica is claiming (`FOR UPDATE SKIP LOCKED`).
extension PostgresConversationStore: KnowledgeStore {
    /// The condition under which `b` (a `kb_bases` row) is readable by the user bound to `$reader`.
    static func readable(_ reader: String) -> String {
        """
        (b.owner_id = \(reader) OR b.shared_with_everyone
         OR EXISTS (SELECT 1 FROM kb_readers r WHERE r.base_id = b.id AND r.user_id = \(reader)))
        """
    }

    static let baseColumns = """
        b.*, (SELECT count(*) FROM kb_documents d WHERE d.base_id = b.id) AS document_count,
        (SELECT coalesce(sum(d.chunk_count), 0) FROM kb_documents d WHERE d.base_id = b.id AND d.status = 'ready')
            AS ready_chunks,
        (SELECT j.model FROM kb_reembeddings j WHERE j.base_id = b.id) AS reembedding_model
        """

    static let passageColumns = """
        c.id, c.base_id, c.document_id, d.name AS document_name, c.ordinal, c.text, c.heading_path, c.page,
        c.start_offset, c.end_offset
        """

    public func createKnowledgeBase(_ new: NewKnowledgeBase, owner: UserID, limits: KnowledgeLimits) async throws -> KnowledgeBase {
        let now = Date().millis
        let id = UUID.v7(now: Date(millis: now))
        let rows = try await perform {
            // One statement: the count and the insert cannot interleave with another of the owner's creations
            // enough to matter (a race may pass the limit by one, never by many).
            try await client.query("""
                INSERT INTO kb_bases (id, owner_id, name, description, embedding_model, created_at, updated_at)
                SELECT \(id), \(owner.rawValue), \(new.name), \(new.description), \(new.embeddingModel), \(now), \(now)
                WHERE (SELECT count(*) FROM kb_bases WHERE owner_id = \(owner.rawValue)) < \(limits.maxBasesPerUser)
                RETURNING id
                """, logger: logger).collect()
        }
        guard !rows.isEmpty else { throw ParleyError.tooLarge("a user may own at most \(limits.maxBasesPerUser) knowledge bases") }
        return try await knowledgeBase(id: id, reader: owner)
    }

    public func knowledgeBases(reader: UserID) async throws -> [KnowledgeBase] {
        var binds = PostgresBindings()
        binds.append(reader.rawValue)
        let rows = try await perform {
            try await client.query(PostgresQuery(unsafeSQL: """
                SELECT \(Self.baseColumns) FROM kb_bases b WHERE \(Self.readable("$1")) ORDER BY b.updated_at DESC, b.id
                """, binds: binds), logger: logger).collect()
        }
        var bases: [KnowledgeBase] = []
        for row in rows { bases.append(try await knowledgeBase(from: row, reader: reader)) }
        return bases
    }

    public func knowledgeBase(id: UUID, reader: UserID) async throws -> KnowledgeBase {
        var binds = PostgresBindings()
        binds.append(reader.rawValue)
        binds.append(id)
        let rows = try await perform {
            try await client.query(PostgresQuery(unsafeSQL: """
                SELECT \(Self.baseColumns) FROM kb_bases b WHERE b.id = $2 AND \(Self.readable("$1"))
                """, binds: binds), logger: logger).collect()
        }
        guard let row = rows.first else { throw Self.noBase(id) }
        return try await knowledgeBase(from: row, reader: reader)
    }

    public func updateKnowledgeBase(id: UUID, owner: UserID, patch: KnowledgeBasePatch) async throws -> KnowledgeBase {
        var binds = PostgresBindings()
        binds.append(Date().millis)
        var sets = ["updated_at = $1"]
        if let name = patch.name {
            binds.append(name)
            sets.append("name = $\(binds.count)")
        }
        if let description = patch.description {
            binds.append(description)
            sets.append("description = $\(binds.count)")
        }
        if let everyone = patch.sharedWithEveryone {
            binds.append(everyone)
            sets.append("shared_with_everyone = $\(binds.count)")
        }
        binds.append(id)
        binds.append(owner.rawValue)
        let sql = "UPDATE kb_bases SET \(sets.joined(separator: ", ")) WHERE id = $\(binds.count - 1) "
            + "AND owner_id = $\(binds.count) RETURNING id"
        let found = try await perform {
            try await client.withTransaction(logger: logger) { connection -> Bool in
                let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).collect()
                guard !rows.isEmpty else { return false }
                if let readers = patch.readers {
                    try await connection.query("DELETE FROM kb_readers WHERE base_id = \(id)", logger: logger)
                    let others = Array(Set(readers.map(\.rawValue)).subtracting([owner.rawValue]))
                    if !others.isEmpty {
                        try await connection.query("""
                            INSERT INTO kb_readers (base_id, user_id) SELECT \(id), unnest(\(others)::text[])
                            """, logger: logger)
                    }
                }
                return true
            }
        }
        guard found else { throw Self.noBase(id) }
        return try await knowledgeBase(id: id, reader: owner)
    }

    public func deleteKnowledgeBase(id: UUID, owner: UserID) async throws {
        let rows = try await perform {
            try await client.query("DELETE FROM kb_bases WHERE id = \(id) AND owner_id = \(owner.rawValue) RETURNING id",
                                   logger: logger).collect()
        }
        if rows.isEmpty { throw Self.noBase(id) }
    }

    // MARK: Documents

    public func addDocument(_ new: NewDocument, baseID: UUID, owner: UserID, limits: KnowledgeLimits) async throws
        -> AddedDocument
    {
        let now = Date().millis
        let id = UUID.v7(now: Date(millis: now))
        let (documentID, duplicate) = try await perform {
            try await client.withTransaction(logger: logger) { connection -> (UUID, Bool) in
                // Locking the base serialises uploads to it, so the count and the duplicate check hold.
                let base = try await connection.query(
                    "SELECT id FROM kb_bases WHERE id = \(baseID) AND owner_id = \(owner.rawValue) FOR UPDATE",
                    logger: logger).collect()
                guard !base.isEmpty else { throw Self.noBase(baseID) }
                for try await (existing, status) in try await connection.query("""
                    SELECT id, status FROM kb_documents WHERE base_id = \(baseID) AND sha256 = \(new.sha256)
                    """, logger: logger).decode((UUID, String).self) {
                    if status == DocumentStatus.failed.rawValue || status == DocumentStatus.cancelled.rawValue {
                        try await connection.query("""
                            UPDATE kb_documents SET status = 'queued', error = NULL, attempts = 0, not_before = 0,
                                updated_at = \(now) WHERE id = \(existing)
                            """, logger: logger)
                    }
                    return (existing, true)
                }
                var count = 0
                for try await found in try await connection.query(
                    "SELECT count(*) FROM kb_documents WHERE base_id = \(baseID)", logger: logger).decode(Int.self) {
                    count = found
                }
                guard count < limits.maxDocumentsPerBase else {
                    throw ParleyError.tooLarge("a knowledge base holds at most \(limits.maxDocumentsPerBase) documents")
                }
                try await connection.query("""
                    INSERT INTO kb_documents (id, base_id, name, byte_count, sha256, status, created_at, updated_at)
                    VALUES (\(id), \(baseID), \(new.name), \(new.content.count), \(new.sha256), 'queued', \(now), \(now))
                    """, logger: logger)
                try await connection.query("""
                    INSERT INTO kb_document_content (document_id, content) VALUES (\(id), \(ByteBuffer(bytes: new.content)))
                    """, logger: logger)
                try await connection.query("UPDATE kb_bases SET updated_at = \(now) WHERE id = \(baseID)", logger: logger)
                return (id, false)
            }
        }
        return AddedDocument(document: try await document(id: documentID, baseID: baseID, reader: owner), duplicate: duplicate)
    }

    public func documents(baseID: UUID, reader: UserID) async throws -> [KnowledgeDocument] {
        guard try await reads(baseID: baseID, reader: reader) else { throw Self.noBase(baseID) }
        let rows = try await perform {
            try await client.query("SELECT * FROM kb_documents WHERE base_id = \(baseID) ORDER BY created_at DESC, id DESC",
                                   logger: logger).collect()
        }
        return try rows.map(Self.document(from:))
    }

    public func document(id: UUID, baseID: UUID, reader: UserID) async throws -> KnowledgeDocument {
        guard try await reads(baseID: baseID, reader: reader) else { throw Self.noDocument(id) }
        let rows = try await perform {
            try await client.query("SELECT * FROM kb_documents WHERE id = \(id) AND base_id = \(baseID)", logger: logger).collect()
        }
        guard let row = rows.first else { throw Self.noDocument(id) }
        return try Self.document(from: row)
    }

    public func documentContent(id: UUID, baseID: UUID, reader: UserID) async throws -> [UInt8] {
        guard try await reads(baseID: baseID, reader: reader) else { throw Self.noDocument(id) }
        let rows = try await perform {
            try await client.query("""
                SELECT c.content FROM kb_document_content c JOIN kb_documents d ON d.id = c.document_id
                WHERE d.id = \(id) AND d.base_id = \(baseID)
                """, logger: logger).collect()
        }
        guard let row = rows.first else { throw Self.noDocument(id) }
        return Array(buffer: try row.decode(ByteBuffer.self))
    }

    public func chunks(documentID: UUID, baseID: UUID, reader: UserID) async throws -> [StoredPassage] {
        _ = try await document(id: documentID, baseID: baseID, reader: reader)
        let rows = try await perform {
            try await client.query(PostgresQuery(unsafeSQL: """
                SELECT \(Self.passageColumns) FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id
                WHERE c.document_id = $1 AND d.status = 'ready' ORDER BY c.ordinal
                """, binds: Self.bindings(documentID)), logger: logger).collect()
        }
        return try rows.map(Self.passage(from:))
    }

    public func pinDocument(id: UUID, baseID: UUID, owner: UserID, pinned: Bool, maxPinned: Int) async throws -> KnowledgeDocument {
        let now = Date().millis
        enum Outcome { case done, noDocument, tooMany }
        let outcome = try await perform {
            try await client.withTransaction(logger: logger) { connection -> Outcome in
                // The base's row is locked so two pins at once cannot both pass the count.
                let owned = try await connection.query(
                    "SELECT 1 FROM kb_bases WHERE id = \(baseID) AND owner_id = \(owner.rawValue) FOR UPDATE", logger: logger).collect()
                guard !owned.isEmpty else { return .noDocument }
                let current = try await connection.query(
                    "SELECT pinned FROM kb_documents WHERE id = \(id) AND base_id = \(baseID)", logger: logger).collect()
                guard let row = current.first else { return .noDocument }
                guard try row.decode(Bool.self) != pinned else { return .done }
                if pinned {
                    let count = try await connection.query(
                        "SELECT count(*) FROM kb_documents WHERE base_id = \(baseID) AND pinned", logger: logger).collect()
                    if try count.first?.decode(Int.self) ?? 0 >= maxPinned { return .tooMany }
                }
                try await connection.query("UPDATE kb_documents SET pinned = \(pinned), updated_at = \(now) WHERE id = \(id)",
                                           logger: logger)
                return .done
            }
        }
        switch outcome {
        case .noDocument: throw Self.noDocument(id)
        case .tooMany: throw ParleyError.conflict("a knowledge base may have at most \(maxPinned) pinned documents")
        case .done: return try await document(id: id, baseID: baseID, reader: owner)
        }
    }

    public func pinnedPassages(baseIDs: [UUID], reader: UserID, limit: Int) async throws -> [StoredPassage] {
        guard !baseIDs.isEmpty, limit > 0 else { return [] }
        let rows = try await perform {
            try await client.query(PostgresQuery(unsafeSQL: """
                SELECT \(Self.passageColumns) FROM kb_documents d
                JOIN kb_bases b ON b.id = d.base_id JOIN kb_chunks c ON c.document_id = d.id
                WHERE d.base_id = ANY($1::uuid[]) AND d.pinned AND d.status = 'ready' AND \(Self.readable("$2"))
                ORDER BY d.created_at, d.id, c.ordinal LIMIT $3
                """, binds: Self.bindings(baseIDs, reader.rawValue, limit)), logger: logger).collect()
        }
        return try rows.map(Self.passage(from:))
    }

    public func deleteDocument(id: UUID, baseID: UUID, owner: UserID) async throws {
        let now = Date().millis
        let deleted = try await perform {
            try await client.withTransaction(logger: logger) { connection -> Bool in
                let rows = try await connection.query("""
                    DELETE FROM kb_documents d USING kb_bases b
                    WHERE d.id = \(id) AND d.base_id = \(baseID) AND b.id = d.base_id AND b.owner_id = \(owner.rawValue)
                    RETURNING d.id
                    """, logger: logger).collect()
                guard !rows.isEmpty else { return false }
                try await Self.bumpIndex(connection, baseID: baseID, now: now, logger: logger)
                return true
            }
        }
        if !deleted { throw Self.noDocument(id) }
    }

    public func cancelDocument(id: UUID, baseID: UUID, owner: UserID) async throws -> KnowledgeDocument {
        let now = Date().millis
        try await perform {
            try await client.withTransaction(logger: logger) { connection in
                let status = try await Self.ownedStatus(connection, id: id, baseID: baseID, owner: owner, logger: logger)
                guard DocumentStatus(rawValue: status)?.isPending == true else {
                    throw ParleyError.conflict("the document is \(status); only a queued or processing document can be cancelled")
                }
                try await connection.query("DELETE FROM kb_chunks WHERE document_id = \(id)", logger: logger)
                try await connection.query("""
                    UPDATE kb_documents SET status = 'cancelled', lease_holder = NULL, lease_until = NULL, chunk_count = 0,
                        updated_at = \(now) WHERE id = \(id)
                    """, logger: logger)
            }
        }
        return try await document(id: id, baseID: baseID, reader: owner)
    }

    public func retryDocument(id: UUID, baseID: UUID, owner: UserID) async throws -> KnowledgeDocument {
        let now = Date().millis
        try await perform {
            try await client.withTransaction(logger: logger) { connection in
                let status = try await Self.ownedStatus(connection, id: id, baseID: baseID, owner: owner, logger: logger)
                guard status == DocumentStatus.failed.rawValue || status == DocumentStatus.cancelled.rawValue else {
                    throw ParleyError.conflict("the document is \(status); only a failed or cancelled document can be retried")
                }
                try await connection.query("""
                    UPDATE kb_documents SET status = 'queued', error = NULL, attempts = 0, not_before = 0,
                        updated_at = \(now) WHERE id = \(id)
                    """, logger: logger)
            }
        }
        return try await document(id: id, baseID: baseID, reader: owner)
    }

    // MARK: Ingestion

    public func claimDocument(holder: String, lease: Duration) async throws -> IngestionClaim? {
        let now = Self.databaseNowMillis
        let rows = try await perform {
            try await client.withTransaction(logger: logger) { connection -> [PostgresRow] in
                let claimed = try await connection.query(PostgresQuery(unsafeSQL: """
                    UPDATE kb_documents SET status = 'processing', lease_holder = $1, lease_until = \(now) + $2,
                        attempts = attempts + 1, chunk_count = 0, updated_at = \(now)
                    WHERE id = (
                        SELECT id FROM kb_documents
                        WHERE status IN ('queued', 'processing')
                          AND ((status = 'queued' AND not_before <= \(now)) OR (status = 'processing' AND lease_until < \(now)))
                        ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED
                    ) RETURNING id
                    """, binds: Self.bindings(holder, lease.millis)), logger: logger).collect()
                guard let row = claimed.first else { return [] }
                let id = try row.decode(UUID.self)
                try await connection.query("DELETE FROM kb_chunks WHERE document_id = \(id)", logger: logger)
                return try await connection.query("""
                    SELECT d.*, b.embedding_model AS base_model, b.embedding_dimensions AS base_dimensions, c.content
                    FROM kb_documents d JOIN kb_bases b ON b.id = d.base_id
                    JOIN kb_document_content c ON c.document_id = d.id WHERE d.id = \(id)
                    """, logger: logger).collect()
            }
        }
        guard let row = rows.first else { return nil }
        let columns = row.makeRandomAccess()
        let content = try columns["content"].decode(ByteBuffer.self)
        return IngestionClaim(document: try Self.document(from: row), content: Array(buffer: content),
                              embeddingModel: try columns["base_model"].decode(String?.self),
                              embeddingDimensions: try columns["base_dimensions"].decode(Int?.self))
    }

    public func renewDocumentLease(id: UUID, holder: String, lease: Duration) async throws -> Bool {
        let rows = try await perform {
            try await client.query(PostgresQuery(unsafeSQL: """
                UPDATE kb_documents SET lease_until = \(Self.databaseNowMillis) + $3
                WHERE id = $1 AND lease_holder = $2 AND status = 'processing' RETURNING id
                """, binds: Self.bindings(id, holder, lease.millis)), logger: logger).collect()
        }
        return !rows.isEmpty
    }

    public func storeChunks(_ chunks: [ChunkRecord], documentID: UUID, holder: String, embeddingModel: String?) async throws
        -> Bool
    {
        try await perform {
            try await client.withTransaction(logger: logger) { connection -> Bool in
                var found: (UUID, String?)?
                for try await row in try await connection.query("""
                    SELECT d.base_id, b.embedding_model FROM kb_documents d JOIN kb_bases b ON b.id = d.base_id
                    WHERE d.id = \(documentID) AND d.lease_holder = \(holder) AND d.status = 'processing'
                    FOR UPDATE OF d FOR SHARE OF b
                    """, logger: logger).decode((UUID, String?).self) { found = row }
                guard let (baseID, model) = found else { return false }
                guard model == embeddingModel else { throw ParleyError.conflict(Self.modelChanged) }
                // One statement for the batch: arrays unnested into rows.
                var binds = PostgresBindings()
                binds.append(documentID)
                binds.append(baseID)
                binds.append(chunks.map(\.ordinal))
                binds.append(chunks.map(\.chunk.text))
                binds.append(chunks.map { StoredPassage.joined(headings: $0.chunk.headingPath) })
                binds.append(chunks.map { $0.chunk.page ?? -1 })
                binds.append(chunks.map(\.chunk.start))
                binds.append(chunks.map(\.chunk.end))
                binds.append(chunks.map(\.chunk.tokens))
                binds.append(chunks.map { $0.vector.map { ByteBuffer(bytes: $0.bytes) } ?? ByteBuffer() })
                binds.append(chunks.map { $0.vector?.scale ?? 0 })
                try await connection.query(PostgresQuery(unsafeSQL: """
                    INSERT INTO kb_chunks (document_id, base_id, ordinal, text, heading_path, page, start_offset, end_offset,
                                           token_count, vector, vector_scale)
                    SELECT $1, $2, o, t, h, nullif(p, -1), s, e, n, nullif(v, ''::bytea), CASE WHEN v = ''::bytea THEN NULL ELSE f END
                    FROM unnest($3::int[], $4::text[], $5::text[], $6::int[], $7::int[], $8::int[], $9::int[], $10::bytea[],
                                $11::real[]) AS u(o, t, h, p, s, e, n, v, f)
                    """, binds: binds), logger: logger)
                try await connection.query("""
                    UPDATE kb_documents SET chunk_count = chunk_count + \(chunks.count) WHERE id = \(documentID)
                    """, logger: logger)
                return true
            }
        }
    }

    public func finishDocument(id: UUID, holder: String, kind: String, embeddingDimensions: Int?) async throws -> Bool {
        let now = Date().millis
        return try await perform {
            try await client.withTransaction(logger: logger) { connection -> Bool in
                var baseID: UUID?
                for try await found in try await connection.query("""
                    UPDATE kb_documents SET status = 'ready', kind = \(kind), error = NULL, lease_holder = NULL,
                        lease_until = NULL, updated_at = \(now)
                    WHERE id = \(id) AND lease_holder = \(holder) AND status = 'processing' RETURNING base_id
                    """, logger: logger).decode(UUID.self) { baseID = found }
                guard let baseID else { return false }
                if let embeddingDimensions {
                    try await connection.query("""
                        UPDATE kb_bases SET embedding_dimensions = coalesce(embedding_dimensions, \(embeddingDimensions))
                        WHERE id = \(baseID)
                        """, logger: logger)
                }
                try await Self.bumpIndex(connection, baseID: baseID, now: now, logger: logger)
                return true
            }
        }
    }

    public func failDocument(id: UUID, holder: String, error: String, retryAt: Date?) async throws {
        let now = Date().millis
        let status = retryAt == nil ? DocumentStatus.failed.rawValue : DocumentStatus.queued.rawValue
        let notBefore = retryAt?.millis ?? 0
        try await perform {
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query("""
                    UPDATE kb_documents SET status = \(status), error = \(error), not_before = \(notBefore),
                        lease_holder = NULL, lease_until = NULL, chunk_count = 0, updated_at = \(now)
                    WHERE id = \(id) AND lease_holder = \(holder) AND status = 'processing' RETURNING id
                    """, logger: logger).collect()
                guard !rows.isEmpty else { return }
                try await connection.query("DELETE FROM kb_chunks WHERE document_id = \(id)", logger: logger)
            }
        }
    }

    // MARK: Retrieval

    public func searchPassages(terms: [String], baseIDs: [UUID], reader: UserID, limit: Int) async throws -> [RankedPassage] {
        guard !terms.isEmpty, !baseIDs.isEmpty, limit > 0 else { return [] }
        // Each term is letters and digits only, so it is a valid lexeme.
        var counts = wordCounts.known(terms)
        let unknown = counts.indices.filter { counts[$0] == nil }
        if !unknown.isEmpty {
            let words = unknown.map { terms[$0] }
            let rows = try await perform {
                try await client.query(PostgresQuery(unsafeSQL: """
                    SELECT (SELECT count(*) FROM (SELECT 1 FROM kb_chunks c WHERE c.search @@ to_tsquery('english', t.term)
                                                  LIMIT $2) s)
                    FROM unnest($1::text[]) WITH ORDINALITY t(term, n) ORDER BY t.n
                    """, binds: Self.bindings(words, FullTextPlan.commonAt)), logger: logger).collect()
            }
            let found = try rows.map { Int(try $0.decode(Int64.self)) }
            for (index, count) in zip(unknown, found) { counts[index] = count }
            wordCounts.remember(words, found)
        }
        let plan = FullTextPlan(terms: terms, counts: counts.map { $0 ?? 0 })
        // The base filter and the access rule are in every query: a passage the reader may not see is never ranked.
        let matching = """
            FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id JOIN kb_bases b ON b.id = c.base_id,
                 to_tsquery('english', $1) q
            WHERE c.search @@ q AND c.base_id = ANY($2::uuid[]) AND d.status = 'ready' AND \(Self.readable("$3"))
            """
        for step in plan.steps {
            // One query: the newest `rankedAtMost` matches that pass the filters are ranked (all of them when there
            // are fewer), and only the best `limit` are read whole.
            let rows = try await perform {
                try await client.query(PostgresQuery(unsafeSQL: """
                    SELECT \(Self.passageColumns), r.rank FROM (
                        SELECT n.id, ts_rank_cd(c.search, q) AS rank
                        FROM (SELECT c.id \(matching) ORDER BY c.id DESC LIMIT $4) n JOIN kb_chunks c ON c.id = n.id,
                             to_tsquery('english', $1) q
                        ORDER BY rank DESC, n.id LIMIT $5) r
                    JOIN kb_chunks c ON c.id = r.id JOIN kb_documents d ON d.id = c.document_id
                    ORDER BY r.rank DESC, c.id
                    """, binds: Self.bindings(FullTextPlan.tsquery(step), baseIDs, reader.rawValue, FullTextPlan.rankedAtMost,
                                              limit)), logger: logger).collect()
            }
            guard !rows.isEmpty else { continue }
            return try rows.map { row in
                RankedPassage(passage: try Self.passage(from: row), score: Double(try row.makeRandomAccess()["rank"].decode(Float.self)))
            }
        }
        return []
    }

    public func passageVectors(baseID: UUID, afterID: Int64, limit: Int) async throws -> [PassageVector] {
        let rows = try await perform {
            try await client.query("""
                SELECT c.id, c.vector, c.vector_scale FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id
                WHERE c.base_id = \(baseID) AND c.id > \(afterID) AND d.status = 'ready' AND c.vector IS NOT NULL
                ORDER BY c.id LIMIT \(limit)
                """, logger: logger).collect()
        }
        return try rows.map { row in
            let (id, bytes, scale) = try row.decode((Int64, ByteBuffer, Float).self)
            return PassageVector(id: id, vector: StoredVector(bytes: Array(buffer: bytes), scale: scale))
        }
    }

    public func passages(ids: [Int64], baseIDs: [UUID], reader: UserID) async throws -> [StoredPassage] {
        guard !ids.isEmpty, !baseIDs.isEmpty else { return [] }
        let rows = try await perform {
            try await client.query(PostgresQuery(unsafeSQL: """
                SELECT \(Self.passageColumns) FROM kb_chunks c
                JOIN kb_documents d ON d.id = c.document_id JOIN kb_bases b ON b.id = c.base_id
                WHERE c.id = ANY($1::bigint[]) AND c.base_id = ANY($2::uuid[]) AND d.status = 'ready'
                  AND \(Self.readable("$3"))
                """, binds: Self.bindings(ids, baseIDs, reader.rawValue)), logger: logger).collect()
        }
        return try rows.map(Self.passage(from:))
    }

    // MARK: Rows

    private func reads(baseID: UUID, reader: UserID) async throws -> Bool {
        let rows = try await perform {
            try await client.query(PostgresQuery(unsafeSQL: "SELECT 1 FROM kb_bases b WHERE b.id = $2 AND \(Self.readable("$1"))",
                                                 binds: Self.bindings(reader.rawValue, baseID)), logger: logger).collect()
        }
        return !rows.isEmpty
    }

    private static func ownedStatus(_ connection: PostgresConnection, id: UUID, baseID: UUID, owner: UserID,
                                    logger: Logger) async throws -> String {
        for try await status in try await connection.query("""
            SELECT d.status FROM kb_documents d JOIN kb_bases b ON b.id = d.base_id
            WHERE d.id = \(id) AND d.base_id = \(baseID) AND b.owner_id = \(owner.rawValue) FOR UPDATE OF d
            """, logger: logger).decode(String.self) {
            return status
        }
        throw noDocument(id)
    }

    private static func bumpIndex(_ connection: PostgresConnection, baseID: UUID, now: Int64, logger: Logger) async throws {
        try await connection.query("""
            UPDATE kb_bases SET index_version = index_version + 1, updated_at = \(now) WHERE id = \(baseID)
            """, logger: logger)
    }

    static func bindings(_ values: any PostgresDynamicTypeEncodable...) -> PostgresBindings {
        var binds = PostgresBindings()
        for value in values { binds.append(value) }
        return binds
    }

    static let modelChanged = "the knowledge base's embedding model changed while the document was read"

    static func noBase(_ id: UUID) -> ParleyError { .notFound("no knowledge base with id \(id.lowercased)") }
    static func noDocument(_ id: UUID) -> ParleyError { .notFound("no document with id \(id.lowercased)") }

    private func knowledgeBase(from row: PostgresRow, reader: UserID) async throws -> KnowledgeBase {
        let columns = row.makeRandomAccess()
        let id = try columns["id"].decode(UUID.self)
        let owner = UserID(try columns["owner_id"].decode(String.self))
        var readers: [UserID] = []
        // Who else may read it is the owner's business only.
        if owner == reader {
            let rows = try await perform {
                try await client.query("SELECT user_id FROM kb_readers WHERE base_id = \(id) ORDER BY user_id",
                                       logger: logger).collect()
            }
            readers = try rows.map { UserID(try $0.decode(String.self)) }
        }
        return KnowledgeBase(
            id: id, ownerID: owner, name: try columns["name"].decode(String.self),
            description: try columns["description"].decode(String.self),
            embeddingModel: try columns["embedding_model"].decode(String?.self),
            embeddingDimensions: try columns["embedding_dimensions"].decode(Int?.self),
            sharedWithEveryone: try columns["shared_with_everyone"].decode(Bool.self), readers: readers,
            documentCount: try columns["document_count"].decode(Int.self),
            chunkCount: try columns["ready_chunks"].decode(Int.self),
            indexVersion: try columns["index_version"].decode(Int64.self),
            reembedding: try columns["reembedding_model"].decode(String?.self) == nil ? nil : try await reembedding(baseID: id),
            createdAt: Date(millis: try columns["created_at"].decode(Int64.self)),
            updatedAt: Date(millis: try columns["updated_at"].decode(Int64.self)))
    }

    static func document(from row: PostgresRow) throws -> KnowledgeDocument {
        let columns = row.makeRandomAccess()
        let statusText = try columns["status"].decode(String.self)
        guard let status = DocumentStatus(rawValue: statusText) else { throw StoreError.corrupt("bad document status \(statusText)") }
        return KnowledgeDocument(
            id: try columns["id"].decode(UUID.self), baseID: try columns["base_id"].decode(UUID.self),
            name: try columns["name"].decode(String.self), kind: try columns["kind"].decode(String?.self),
            byteCount: try columns["byte_count"].decode(Int.self), sha256: try columns["sha256"].decode(String.self),
            status: status, error: try columns["error"].decode(String?.self),
            chunkCount: try columns["chunk_count"].decode(Int.self), attempts: try columns["attempts"].decode(Int.self),
            pinned: try columns["pinned"].decode(Bool.self), createdAt: Date(millis: try columns["created_at"].decode(Int64.self)),
            updatedAt: Date(millis: try columns["updated_at"].decode(Int64.self)))
    }

    static func passage(from row: PostgresRow) throws -> StoredPassage {
        let columns = row.makeRandomAccess()
        return StoredPassage(
            id: try columns["id"].decode(Int64.self), baseID: try columns["base_id"].decode(UUID.self),
            documentID: try columns["document_id"].decode(UUID.self),
            documentName: try columns["document_name"].decode(String.self), ordinal: try columns["ordinal"].decode(Int.self),
            text: try columns["text"].decode(String.self),
            headingPath: StoredPassage.headings(joined: try columns["heading_path"].decode(String.self)),
            page: try columns["page"].decode(Int?.self), start: try columns["start_offset"].decode(Int.self),
            end: try columns["end_offset"].decode(Int.self))
    }
}
