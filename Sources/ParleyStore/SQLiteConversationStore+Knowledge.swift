import Foundation
import GRDB
import ParleyCore
import ParleyRetrieval

/// Knowledge bases and their documents in the same SQLite file as the conversations.
extension SQLiteConversationStore: KnowledgeStore {
    /// The condition under which `b` (a `kb_bases` row) is readable by the user bound to `?`, twice.
    static let readable = """
        (b.owner_id = ? OR b.shared_with_everyone = 1
         OR EXISTS (SELECT 1 FROM kb_readers r WHERE r.base_id = b.id AND r.user_id = ?))
        """

    static let baseColumns = """
        b.*, (SELECT count(*) FROM kb_documents d WHERE d.base_id = b.id) AS document_count,
        (SELECT coalesce(sum(d.chunk_count), 0) FROM kb_documents d WHERE d.base_id = b.id AND d.status = 'ready')
            AS ready_chunks,
        (SELECT j.model FROM kb_reembeddings j WHERE j.base_id = b.id) AS reembedding_model
        """

    public func createKnowledgeBase(_ new: NewKnowledgeBase, owner: UserID, limits: KnowledgeLimits) async throws -> KnowledgeBase {
        let now = Date()
        let id = UUID.v7(now: now)
        let created = try await write { db -> Bool in
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM kb_bases WHERE owner_id = ?",
                                         arguments: [owner.rawValue]) ?? 0
            guard count < limits.maxBasesPerUser else { return false }
            try db.execute(sql: """
                INSERT INTO kb_bases (id, owner_id, name, description, embedding_model, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id.lowercased, owner.rawValue, new.name, new.description, new.embeddingModel,
                                 now.millis, now.millis])
            return true
        }
        guard created else { throw ParleyError.tooLarge("a user may own at most \(limits.maxBasesPerUser) knowledge bases") }
        return try await knowledgeBase(id: id, reader: owner)
    }

    public func knowledgeBases(reader: UserID) async throws -> [KnowledgeBase] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.baseColumns) FROM kb_bases b WHERE \(Self.readable) ORDER BY b.updated_at DESC, b.id",
                             arguments: [reader.rawValue, reader.rawValue])
                .map { try Self.knowledgeBase(from: $0, db: db, reader: reader) }
        }
    }

    public func knowledgeBase(id: UUID, reader: UserID) async throws -> KnowledgeBase {
        let found = try await read { db in
            // Every grounded turn reads its bases: the statement is prepared once per connection.
            try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.baseColumns) FROM kb_bases b WHERE b.id = ? AND \(Self.readable)"),
                             arguments: [id.lowercased, reader.rawValue, reader.rawValue])
                .map { try Self.knowledgeBase(from: $0, db: db, reader: reader) }
        }
        guard let found else { throw Self.noBase(id) }
        return found
    }

    public func updateKnowledgeBase(id: UUID, owner: UserID, patch: KnowledgeBasePatch) async throws -> KnowledgeBase {
        let now = Date().millis
        let found = try await write { db -> Bool in
            var sets = ["updated_at = ?"]
            var arguments: StatementArguments = [now]
            if let name = patch.name { sets.append("name = ?"); arguments += [name] }
            if let description = patch.description { sets.append("description = ?"); arguments += [description] }
            if let everyone = patch.sharedWithEveryone { sets.append("shared_with_everyone = ?"); arguments += [everyone] }
            arguments += [id.lowercased, owner.rawValue]
            try db.execute(sql: "UPDATE kb_bases SET \(sets.joined(separator: ", ")) WHERE id = ? AND owner_id = ?",
                           arguments: arguments)
            guard db.changesCount > 0 else { return false }
            if let readers = patch.readers {
                try db.execute(sql: "DELETE FROM kb_readers WHERE base_id = ?", arguments: [id.lowercased])
                for reader in Set(readers.map(\.rawValue)) where reader != owner.rawValue {
                    try db.execute(sql: "INSERT INTO kb_readers (base_id, user_id) VALUES (?, ?)",
                                   arguments: [id.lowercased, reader])
                }
            }
            return true
        }
        guard found else { throw Self.noBase(id) }
        return try await knowledgeBase(id: id, reader: owner)
    }

    public func deleteKnowledgeBase(id: UUID, owner: UserID) async throws {
        let deleted = try await write { db -> Int in
            try db.execute(sql: "DELETE FROM kb_bases WHERE id = ? AND owner_id = ?", arguments: [id.lowercased, owner.rawValue])
            return db.changesCount
        }
        if deleted == 0 { throw Self.noBase(id) }
    }

    // MARK: Documents

    public func addDocument(_ new: NewDocument, baseID: UUID, owner: UserID, limits: KnowledgeLimits) async throws
        -> AddedDocument
    {
        let now = Date().millis
        let id = UUID.v7(now: Date(millis: now))
        let outcome = try await write { db -> Result<(UUID, Bool), ParleyError> in
            guard try Self.owns(db, baseID: baseID, owner: owner) else { return .failure(Self.noBase(baseID)) }
            if let existing = try Row.fetchOne(db, sql: "SELECT id, status FROM kb_documents WHERE base_id = ? AND sha256 = ?",
                                               arguments: [baseID.lowercased, new.sha256]) {
                let existingID = try Self.uuid(existing, "id")
                let status: String = existing["status"]
                if status == DocumentStatus.failed.rawValue || status == DocumentStatus.cancelled.rawValue {
                    try Self.requeue(db, id: existingID, now: now)
                }
                return .success((existingID, true))
            }
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM kb_documents WHERE base_id = ?",
                                         arguments: [baseID.lowercased]) ?? 0
            guard count < limits.maxDocumentsPerBase else {
                return .failure(.tooLarge("a knowledge base holds at most \(limits.maxDocumentsPerBase) documents"))
            }
            try db.execute(sql: """
                INSERT INTO kb_documents (id, base_id, name, byte_count, sha256, status, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)
                """, arguments: [id.lowercased, baseID.lowercased, new.name, new.content.count, new.sha256, now, now])
            try db.execute(sql: "INSERT INTO kb_document_content (document_id, content) VALUES (?, ?)",
                           arguments: [id.lowercased, Data(new.content)])
            try db.execute(sql: "UPDATE kb_bases SET updated_at = ? WHERE id = ?", arguments: [now, baseID.lowercased])
            return .success((id, false))
        }
        let (documentID, duplicate) = try outcome.get()
        return AddedDocument(document: try await document(id: documentID, baseID: baseID, reader: owner), duplicate: duplicate)
    }

    public func documents(baseID: UUID, reader: UserID) async throws -> [KnowledgeDocument] {
        let found = try await read { db -> [KnowledgeDocument]? in
            guard try Self.reads(db, baseID: baseID, reader: reader) else { return nil }
            return try Row.fetchAll(db, sql: "SELECT * FROM kb_documents WHERE base_id = ? ORDER BY created_at DESC, id DESC",
                                    arguments: [baseID.lowercased]).map(Self.document(from:))
        }
        guard let found else { throw Self.noBase(baseID) }
        return found
    }

    public func document(id: UUID, baseID: UUID, reader: UserID) async throws -> KnowledgeDocument {
        let found = try await read { db -> KnowledgeDocument? in
            guard try Self.reads(db, baseID: baseID, reader: reader) else { return nil }
            return try Row.fetchOne(db, sql: "SELECT * FROM kb_documents WHERE id = ? AND base_id = ?",
                                    arguments: [id.lowercased, baseID.lowercased]).map(Self.document(from:))
        }
        guard let found else { throw Self.noDocument(id) }
        return found
    }

    public func documentContent(id: UUID, baseID: UUID, reader: UserID) async throws -> [UInt8] {
        let found = try await read { db -> Data? in
            guard try Self.reads(db, baseID: baseID, reader: reader) else { return nil }
            return try Data.fetchOne(db, sql: """
                SELECT c.content FROM kb_document_content c JOIN kb_documents d ON d.id = c.document_id
                WHERE d.id = ? AND d.base_id = ?
                """, arguments: [id.lowercased, baseID.lowercased])
        }
        guard let found else { throw Self.noDocument(id) }
        return [UInt8](found)
    }

    public func chunks(documentID: UUID, baseID: UUID, reader: UserID) async throws -> [StoredPassage] {
        let found = try await read { db -> [StoredPassage]? in
            guard try Self.reads(db, baseID: baseID, reader: reader),
                  try Bool.fetchOne(db, sql: "SELECT 1 FROM kb_documents WHERE id = ? AND base_id = ?",
                                    arguments: [documentID.lowercased, baseID.lowercased]) != nil else { return nil }
            return try Row.fetchAll(db, sql: """
                SELECT \(Self.passageColumns) FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id
                WHERE c.document_id = ? AND d.status = 'ready' ORDER BY c.ordinal
                """, arguments: [documentID.lowercased]).map(Self.passage(from:))
        }
        guard let found else { throw Self.noDocument(documentID) }
        return found
    }

    public func pinDocument(id: UUID, baseID: UUID, owner: UserID, pinned: Bool, maxPinned: Int) async throws -> KnowledgeDocument {
        let now = Date().millis
        enum Outcome { case done, noDocument, tooMany }
        let outcome = try await write { db -> Outcome in
            guard try Self.owns(db, baseID: baseID, owner: owner),
                  let current = try Bool.fetchOne(db, sql: "SELECT pinned FROM kb_documents WHERE id = ? AND base_id = ?",
                                                  arguments: [id.lowercased, baseID.lowercased]) else { return .noDocument }
            guard current != pinned else { return .done }
            if pinned, try Int.fetchOne(db, sql: "SELECT count(*) FROM kb_documents WHERE base_id = ? AND pinned = 1",
                                        arguments: [baseID.lowercased]) ?? 0 >= maxPinned { return .tooMany }
            try db.execute(sql: "UPDATE kb_documents SET pinned = ?, updated_at = ? WHERE id = ?",
                           arguments: [pinned, now, id.lowercased])
            return .done
        }
        switch outcome {
        case .noDocument: throw Self.noDocument(id)
        case .tooMany: throw ParleyError.conflict("a knowledge base may have at most \(maxPinned) pinned documents")
        case .done: return try await document(id: id, baseID: baseID, reader: owner)
        }
    }

    public func pinnedPassages(baseIDs: [UUID], reader: UserID, limit: Int) async throws -> [StoredPassage] {
        guard !baseIDs.isEmpty, limit > 0 else { return [] }
        var arguments = StatementArguments(baseIDs.map(\.lowercased))
        arguments += [reader.rawValue, reader.rawValue, limit]
        let bound = arguments
        return try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT \(Self.passageColumns) FROM kb_documents d
                JOIN kb_bases b ON b.id = d.base_id JOIN kb_chunks c ON c.document_id = d.id
                WHERE d.base_id IN (\(baseIDs.map { _ in "?" }.joined(separator: ", "))) AND d.pinned = 1
                  AND d.status = 'ready' AND \(Self.readable)
                ORDER BY d.created_at, d.id, c.ordinal LIMIT ?
                """), arguments: bound).map(Self.passage(from:))
        }
    }

    public func deleteDocument(id: UUID, baseID: UUID, owner: UserID) async throws {
        let now = Date().millis
        let deleted = try await write { db -> Bool in
            guard try Self.owns(db, baseID: baseID, owner: owner) else { return false }
            try db.execute(sql: "DELETE FROM kb_documents WHERE id = ? AND base_id = ?", arguments: [id.lowercased, baseID.lowercased])
            guard db.changesCount > 0 else { return false }
            try Self.bumpIndex(db, baseID: baseID, now: now)
            return true
        }
        if !deleted { throw Self.noDocument(id) }
    }

    public func cancelDocument(id: UUID, baseID: UUID, owner: UserID) async throws -> KnowledgeDocument {
        let now = Date().millis
        let outcome = try await write { db -> ParleyError? in
            guard let status = try Self.ownedStatus(db, id: id, baseID: baseID, owner: owner) else { return Self.noDocument(id) }
            guard DocumentStatus(rawValue: status)?.isPending == true else {
                return .conflict("the document is \(status); only a queued or processing document can be cancelled")
            }
            try db.execute(sql: "DELETE FROM kb_chunks WHERE document_id = ?", arguments: [id.lowercased])
            try db.execute(sql: """
                UPDATE kb_documents SET status = 'cancelled', lease_holder = NULL, lease_until = NULL, chunk_count = 0,
                    updated_at = ? WHERE id = ?
                """, arguments: [now, id.lowercased])
            return nil
        }
        if let outcome { throw outcome }
        return try await document(id: id, baseID: baseID, reader: owner)
    }

    public func retryDocument(id: UUID, baseID: UUID, owner: UserID) async throws -> KnowledgeDocument {
        let now = Date().millis
        let outcome = try await write { db -> ParleyError? in
            guard let status = try Self.ownedStatus(db, id: id, baseID: baseID, owner: owner) else { return Self.noDocument(id) }
            guard status == DocumentStatus.failed.rawValue || status == DocumentStatus.cancelled.rawValue else {
                return .conflict("the document is \(status); only a failed or cancelled document can be retried")
            }
            try Self.requeue(db, id: id, now: now)
            return nil
        }
        if let outcome { throw outcome }
        return try await document(id: id, baseID: baseID, reader: owner)
    }

    // MARK: Ingestion

    public func claimDocument(holder: String, lease: Duration) async throws -> IngestionClaim? {
        let now = Date().millis
        return try await write { db -> IngestionClaim? in
            // Asked every poll, mostly of an empty queue: compiled once per connection.
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT d.id FROM kb_documents d
                WHERE d.status IN ('queued', 'processing')
                  AND ((d.status = 'queued' AND d.not_before <= ?) OR (d.status = 'processing' AND d.lease_until < ?))
                ORDER BY d.created_at LIMIT 1
                """), arguments: [now, now]) else { return nil }
            let id: String = row["id"]
            try db.execute(sql: "DELETE FROM kb_chunks WHERE document_id = ?", arguments: [id])
            try db.execute(sql: """
                UPDATE kb_documents SET status = 'processing', lease_holder = ?, lease_until = ?, attempts = attempts + 1,
                    chunk_count = 0, updated_at = ? WHERE id = ?
                """, arguments: [holder, now + lease.millis, now, id])
            guard let claimed = try Row.fetchOne(db, sql: """
                SELECT d.*, b.embedding_model AS base_model, b.embedding_dimensions AS base_dimensions, c.content
                FROM kb_documents d JOIN kb_bases b ON b.id = d.base_id JOIN kb_document_content c ON c.document_id = d.id
                WHERE d.id = ?
                """, arguments: [id]) else { return nil }
            let content: Data = claimed["content"]
            return IngestionClaim(document: try Self.document(from: claimed), content: [UInt8](content),
                                  embeddingModel: claimed["base_model"], embeddingDimensions: claimed["base_dimensions"])
        }
    }

    public func renewDocumentLease(id: UUID, holder: String, lease: Duration) async throws -> Bool {
        let now = Date().millis
        return try await write { db in
            try db.execute(sql: """
                UPDATE kb_documents SET lease_until = ? WHERE id = ? AND lease_holder = ? AND status = 'processing'
                """, arguments: [now + lease.millis, id.lowercased, holder])
            return db.changesCount > 0
        }
    }

    public func storeChunks(_ chunks: [ChunkRecord], documentID: UUID, holder: String, embeddingModel: String?) async throws
        -> Bool
    {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT d.base_id, b.embedding_model FROM kb_documents d JOIN kb_bases b ON b.id = d.base_id
                WHERE d.id = ? AND d.lease_holder = ? AND d.status = 'processing'
                """, arguments: [documentID.lowercased, holder]) else { return false }
            let baseID: String = row["base_id"]
            guard row["embedding_model"] as String? == embeddingModel else { throw Self.modelChanged }
            let insert = try db.cachedStatement(sql: """
                INSERT INTO kb_chunks (document_id, base_id, ordinal, text, heading_path, page, start_offset, end_offset,
                                       token_count, vector, vector_scale)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for record in chunks {
                let chunk = record.chunk
                try insert.execute(arguments: [documentID.lowercased, baseID, record.ordinal, chunk.text,
                                               StoredPassage.joined(headings: chunk.headingPath), chunk.page, chunk.start,
                                               chunk.end, chunk.tokens, record.vector.map { Data($0.bytes) },
                                               record.vector.map { Double($0.scale) }])
            }
            try db.execute(sql: "UPDATE kb_documents SET chunk_count = chunk_count + ? WHERE id = ?",
                           arguments: [chunks.count, documentID.lowercased])
            return true
        }
    }

    public func finishDocument(id: UUID, holder: String, kind: String, embeddingDimensions: Int?) async throws -> Bool {
        let now = Date().millis
        return try await write { db in
            guard let baseID = try String.fetchOne(db, sql: """
                SELECT base_id FROM kb_documents WHERE id = ? AND lease_holder = ? AND status = 'processing'
                """, arguments: [id.lowercased, holder]) else { return false }
            try db.execute(sql: """
                UPDATE kb_documents SET status = 'ready', kind = ?, error = NULL, lease_holder = NULL, lease_until = NULL,
                    updated_at = ? WHERE id = ?
                """, arguments: [kind, now, id.lowercased])
            if let embeddingDimensions {
                try db.execute(sql: "UPDATE kb_bases SET embedding_dimensions = coalesce(embedding_dimensions, ?) WHERE id = ?",
                               arguments: [embeddingDimensions, baseID])
            }
            guard let base = UUID(text: baseID) else { throw StoreError.corrupt("bad base id \(baseID)") }
            try Self.bumpIndex(db, baseID: base, now: now)
            return true
        }
    }

    public func failDocument(id: UUID, holder: String, error: String, retryAt: Date?) async throws {
        let now = Date().millis
        try await write { db in
            guard try Bool.fetchOne(db, sql: """
                SELECT 1 FROM kb_documents WHERE id = ? AND lease_holder = ? AND status = 'processing'
                """, arguments: [id.lowercased, holder]) != nil else { return }
            try db.execute(sql: "DELETE FROM kb_chunks WHERE document_id = ?", arguments: [id.lowercased])
            try db.execute(sql: """
                UPDATE kb_documents SET status = ?, error = ?, not_before = ?, lease_holder = NULL, lease_until = NULL,
                    chunk_count = 0, updated_at = ? WHERE id = ?
                """, arguments: [retryAt == nil ? DocumentStatus.failed.rawValue : DocumentStatus.queued.rawValue, error,
                                 retryAt?.millis ?? 0, now, id.lowercased])
        }
    }

    // MARK: Retrieval

    static let passageColumns = """
        c.id, c.base_id, c.document_id, d.name AS document_name, c.ordinal, c.text, c.heading_path, c.page,
        c.start_offset, c.end_offset
        """

    public func searchPassages(terms: [String], baseIDs: [UUID], reader: UserID, limit: Int) async throws -> [RankedPassage] {
        guard !terms.isEmpty, !baseIDs.isEmpty, limit > 0 else { return [] }
        let access = StatementArguments(baseIDs.map(\.lowercased)) + [reader.rawValue, reader.rawValue]
        let bases = baseIDs.map { _ in "?" }.joined(separator: ", ")
        // The base filter and the access rule are in every query: a passage the reader may not see is never ranked.
        // CROSS JOIN keeps the index first, walking its matches newest first without a sort (SQLite would otherwise
        // walk the passages by id and ask the index about each one).
        let matching = """
            FROM kb_chunks_fts CROSS JOIN kb_chunks c ON c.id = kb_chunks_fts.rowid
            JOIN kb_documents d ON d.id = c.document_id JOIN kb_bases b ON b.id = c.base_id
            WHERE kb_chunks_fts MATCH ? AND c.base_id IN (\(bases)) AND d.status = 'ready' AND \(Self.readable)
            """
        let wordCounts = self.wordCounts
        return try await read { db in
            let known = wordCounts.known(terms)
            let counts = try zip(terms, known).map { term, known in
                try known ?? Int.fetchOne(db.cachedStatement(sql: """
                    SELECT count(*) FROM (SELECT 1 FROM kb_chunks_fts WHERE kb_chunks_fts MATCH ? LIMIT ?)
                    """), arguments: ["\"\(term)\"", FullTextPlan.commonAt]) ?? 0
            }
            let counted = known.indices.filter { known[$0] == nil }
            wordCounts.remember(counted.map { terms[$0] }, counted.map { counts[$0] })
            let plan = FullTextPlan(terms: terms, counts: counts)
            for step in plan.steps {
                // One pass: the index walks its matches newest first, the filters are joined, and the newest
                // `rankedAtMost` that pass are ranked (all of them when there are fewer); only the best `limit` are
                // read whole (sorting the passages' text with their ids cost more than ranking them).
                let rows = try Row.fetchAll(db.cachedStatement(sql: """
                    SELECT \(Self.passageColumns), r.rank FROM (
                        SELECT id, rank FROM (
                            SELECT c.id, parley_bm25(kb_chunks_fts, ?, 1.0, 2.0) AS rank \(matching)
                            ORDER BY kb_chunks_fts.rowid DESC LIMIT ?)
                        ORDER BY rank, id LIMIT ?) r
                    JOIN kb_chunks c ON c.id = r.id JOIN kb_documents d ON d.id = c.document_id
                    ORDER BY r.rank, c.id
                    """), arguments: [plan.rankingCounts(step), FullTextPlan.fts5(step)] + access + [FullTextPlan.rankedAtMost, limit])
                guard !rows.isEmpty else { continue }
                // bm25 is better when lower; scores are better when higher.
                return try rows.map { RankedPassage(passage: try Self.passage(from: $0), score: -($0["rank"] as Double)) }
            }
            return []
        }
    }

    public func passageVectors(baseID: UUID, afterID: Int64, limit: Int) async throws -> [PassageVector] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT c.id, c.vector, c.vector_scale FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id
                WHERE c.base_id = ? AND c.id > ? AND d.status = 'ready' AND c.vector IS NOT NULL
                ORDER BY c.id LIMIT ?
                """), arguments: [baseID.lowercased, afterID, limit]).map { row in
                let bytes: Data = row["vector"]
                let scale: Double = row["vector_scale"]
                return PassageVector(id: row["id"], vector: StoredVector(bytes: [UInt8](bytes), scale: Float(scale)))
            }
        }
    }

    public func passages(ids: [Int64], baseIDs: [UUID], reader: UserID) async throws -> [StoredPassage] {
        guard !ids.isEmpty, !baseIDs.isEmpty else { return [] }
        // The ids go as one JSON array, so the statement is the same whatever their number and is prepared once.
        var arguments: StatementArguments = ["[" + ids.map(String.init).joined(separator: ",") + "]"]
        arguments += StatementArguments(baseIDs.map(\.lowercased))
        arguments += [reader.rawValue, reader.rawValue]
        let bound = arguments
        return try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT \(Self.passageColumns) FROM kb_chunks c
                JOIN kb_documents d ON d.id = c.document_id JOIN kb_bases b ON b.id = c.base_id
                WHERE c.id IN (SELECT value FROM json_each(?))
                  AND c.base_id IN (\(baseIDs.map { _ in "?" }.joined(separator: ", ")))
                  AND d.status = 'ready' AND \(Self.readable)
                """), arguments: bound).map(Self.passage(from:))
        }
    }

    // MARK: Rows

    static func owns(_ db: Database, baseID: UUID, owner: UserID) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM kb_bases WHERE id = ? AND owner_id = ?",
                          arguments: [baseID.lowercased, owner.rawValue]) != nil
    }

    /// The status of a document in a base the user owns; nil when there is none.
    static func ownedStatus(_ db: Database, id: UUID, baseID: UUID, owner: UserID) throws -> String? {
        guard try owns(db, baseID: baseID, owner: owner) else { return nil }
        return try String.fetchOne(db, sql: "SELECT status FROM kb_documents WHERE id = ? AND base_id = ?",
                                   arguments: [id.lowercased, baseID.lowercased])
    }

    static func reads(_ db: Database, baseID: UUID, reader: UserID) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM kb_bases b WHERE b.id = ? AND \(readable)",
                          arguments: [baseID.lowercased, reader.rawValue, reader.rawValue]) != nil
    }

    static func requeue(_ db: Database, id: UUID, now: Int64) throws {
        try db.execute(sql: """
            UPDATE kb_documents SET status = 'queued', error = NULL, attempts = 0, not_before = 0, updated_at = ?
            WHERE id = ?
            """, arguments: [now, id.lowercased])
    }

    static func bumpIndex(_ db: Database, baseID: UUID, now: Int64) throws {
        try db.execute(sql: "UPDATE kb_bases SET index_version = index_version + 1, updated_at = ? WHERE id = ?",
                       arguments: [now, baseID.lowercased])
    }

    static let modelChanged = ParleyError.conflict(PostgresConversationStore.modelChanged)

    static func noBase(_ id: UUID) -> ParleyError { .notFound("no knowledge base with id \(id.lowercased)") }
    static func noDocument(_ id: UUID) -> ParleyError { .notFound("no document with id \(id.lowercased)") }

    static func knowledgeBase(from row: Row, db: Database, reader: UserID) throws -> KnowledgeBase {
        let owner = UserID(row["owner_id"])
        let id = try uuid(row, "id")
        // Who else may read it is the owner's business only.
        let readers = owner == reader
            ? try String.fetchAll(db, sql: "SELECT user_id FROM kb_readers WHERE base_id = ? ORDER BY user_id",
                                  arguments: [id.lowercased]).map(UserID.init)
            : []
        return KnowledgeBase(id: id, ownerID: owner, name: row["name"], description: row["description"],
                             embeddingModel: row["embedding_model"], embeddingDimensions: row["embedding_dimensions"],
                             sharedWithEveryone: row["shared_with_everyone"], readers: readers,
                             documentCount: row["document_count"], chunkCount: row["ready_chunks"],
                             indexVersion: row["index_version"],
                             reembedding: row["reembedding_model"] as String? == nil ? nil : try reembedding(db, baseID: id),
                             createdAt: Date(millis: row["created_at"]),
                             updatedAt: Date(millis: row["updated_at"]))
    }

    static func document(from row: Row) throws -> KnowledgeDocument {
        let statusText: String = row["status"]
        guard let status = DocumentStatus(rawValue: statusText) else { throw StoreError.corrupt("bad document status \(statusText)") }
        return KnowledgeDocument(id: try uuid(row, "id"), baseID: try uuid(row, "base_id"), name: row["name"],
                                 kind: row["kind"], byteCount: row["byte_count"], sha256: row["sha256"], status: status,
                                 error: row["error"], chunkCount: row["chunk_count"], attempts: row["attempts"],
                                 pinned: row["pinned"], createdAt: Date(millis: row["created_at"]), updatedAt: Date(millis: row["updated_at"]))
    }

    static func passage(from row: Row) throws -> StoredPassage {
        StoredPassage(id: row["id"], baseID: try uuid(row, "base_id"), documentID: try uuid(row, "document_id"),
                      documentName: row["document_name"], ordinal: row["ordinal"], text: row["text"],
                      headingPath: StoredPassage.headings(joined: row["heading_path"]), page: row["page"],
                      start: row["start_offset"], end: row["end_offset"])
    }
}
