import Foundation
import ParleyCore
import ParleyRetrieval
@testable import ParleyStore
import Testing

/// The behaviour every ``KnowledgeStore`` backend must show, run on SQLite and PostgreSQL.
enum KnowledgeStoreContract {
    typealias Store = any KnowledgeStore

    static let checks: [(String, @Sendable (Store) async throws -> Void)] = [
        ("bases are created, listed, changed and deleted by their owner only", basesBelongToTheirOwner),
        ("sharing lets named readers and everyone read, never change", sharingIsReadOnly),
        ("documents are stored once per content and limited", documentsAreStoredOncePerContent),
        ("ingestion stores passages that become searchable when ready", ingestionMakesPassagesSearchableWhenReady),
        ("a lease that expires passes the document to another worker", anExpiredLeasePassesTheDocumentOn),
        ("cancel, fail, back off and retry", cancelFailBackOffAndRetry),
        ("a deleted document leaves retrieval at once", aDeletedDocumentLeavesRetrievalAtOnce),
        ("search is scoped to readable bases inside the query", searchIsScopedInsideTheQuery),
        ("a question's common words rank the passages its rarer words choose", commonWordsOnlyRank),
        ("a query ranks at most the newest matches of the bases searched", rankingIsBounded),
        ("passages that score alike come in the order they were stored", tiesComeInStoredOrder),
        ("a new embedding model replaces the vectors in one step, old ones answering until then", changingTheEmbeddingModel),
        ("a re-embedding fails, stops, is taken over, or changes at once", reembeddingEndsAndHandsOver),
        ("pinned documents are the owner's to pin, limited, and read whole by readers only", pinnedDocuments),
        ("assistants are created, changed and deleted by their owner only, and limited", assistantsBelongToTheirOwner),
        ("a published assistant's visitors reach only their chat, which its owner reads apart", visitorChats),
    ]

    static let alice = UserID("alice"), bob = UserID("bob"), carol = UserID("carol")
    static let limits = KnowledgeLimits(maxDocumentBytes: 1 << 20, maxDocumentsPerBase: 3, maxBasesPerUser: 2)

    static func document(_ text: String, name: String = "notes.md") -> NewDocument {
        // A digest distinct per text is all the store needs; computing the real one is the caller's job.
        NewDocument(name: name, content: Array(text.utf8), sha256: "digest of " + text)
    }

    static func chunk(_ text: String, ordinal: Int, page: Int? = nil, vector: [Float]? = nil) -> ChunkRecord {
        ChunkRecord(ordinal: ordinal, chunk: Chunk(text: text, headingPath: ["Guide", "Setup"], page: page,
                                                   start: ordinal * 100, end: ordinal * 100 + text.utf16.count, tokens: 10),
                    vector: vector.map(StoredVector.init))
    }

    /// Claims the next document, stores `texts` as its passages and makes it ready.
    @discardableResult
    static func ingest(_ store: Store, _ texts: [String], holder: String = "w1", vectors: [[Float]]? = nil) async throws -> UUID {
        let claim = try #require(try await store.claimDocument(holder: holder, lease: .seconds(60)))
        let records = texts.enumerated().map { chunk($1, ordinal: $0, page: $0 + 1, vector: vectors?[$0]) }
        #expect(try await store.storeChunks(records, documentID: claim.document.id, holder: holder, embeddingModel: claim.embeddingModel))
        #expect(try await store.finishDocument(id: claim.document.id, holder: holder, kind: "markdown",
                                               embeddingDimensions: vectors?.first?.count))
        return claim.document.id
    }

    static func basesBelongToTheirOwner(_ store: Store) async throws {
        let base = try await store.createKnowledgeBase(NewKnowledgeBase(name: "Support", description: "docs", embeddingModel: "e1"),
                                                       owner: alice, limits: limits)
        #expect(base.name == "Support" && base.embeddingModel == "e1" && base.documentCount == 0 && base.ownerID == alice)
        _ = try await store.createKnowledgeBase(NewKnowledgeBase(name: "Second"), owner: alice, limits: limits)
        await #expect(throws: ParleyError.self) {
            try await store.createKnowledgeBase(NewKnowledgeBase(name: "Third"), owner: alice, limits: limits)
        }
        #expect(try await store.knowledgeBases(reader: alice).map(\.name).sorted() == ["Second", "Support"])
        #expect(try await store.knowledgeBases(reader: bob).isEmpty)
        await #expect(throws: ParleyError.notFound("no knowledge base with id \(base.id.lowercased)")) {
            try await store.knowledgeBase(id: base.id, reader: bob)
        }
        await #expect(throws: ParleyError.self) {
            try await store.updateKnowledgeBase(id: base.id, owner: bob, patch: KnowledgeBasePatch(name: "mine"))
        }
        await #expect(throws: ParleyError.self) { try await store.deleteKnowledgeBase(id: base.id, owner: bob) }
        let renamed = try await store.updateKnowledgeBase(id: base.id, owner: alice, patch: KnowledgeBasePatch(name: "Help"))
        #expect(renamed.name == "Help" && renamed.description == "docs")
        try await store.deleteKnowledgeBase(id: base.id, owner: alice)
        await #expect(throws: ParleyError.self) { try await store.knowledgeBase(id: base.id, reader: alice) }
    }

    static func sharingIsReadOnly(_ store: Store) async throws {
        let base = try await store.createKnowledgeBase(NewKnowledgeBase(name: "Team"), owner: alice, limits: limits)
        let shared = try await store.updateKnowledgeBase(id: base.id, owner: alice,
                                                         patch: KnowledgeBasePatch(readers: [bob, alice, bob]))
        #expect(shared.readers == [bob])
        let seen = try await store.knowledgeBase(id: base.id, reader: bob)
        #expect(seen.name == "Team" && seen.readers.isEmpty, "a reader does not learn who else reads")
        #expect(try await store.knowledgeBases(reader: carol).isEmpty)
        await #expect(throws: ParleyError.self) {
            try await store.addDocument(document("x"), baseID: base.id, owner: bob, limits: limits)
        }
        await #expect(throws: ParleyError.self) { try await store.deleteKnowledgeBase(id: base.id, owner: bob) }
        _ = try await store.updateKnowledgeBase(id: base.id, owner: alice, patch: KnowledgeBasePatch(sharedWithEveryone: true))
        #expect(try await store.knowledgeBases(reader: carol).map(\.id) == [base.id])
        _ = try await store.updateKnowledgeBase(id: base.id, owner: alice,
                                                patch: KnowledgeBasePatch(sharedWithEveryone: false, readers: []))
        #expect(try await store.knowledgeBases(reader: bob).isEmpty)
        #expect(try await store.knowledgeBases(reader: carol).isEmpty)
    }

    static func documentsAreStoredOncePerContent(_ store: Store) async throws {
        let base = try await store.createKnowledgeBase(NewKnowledgeBase(name: "Docs"), owner: alice, limits: limits)
        let first = try await store.addDocument(document("# One"), baseID: base.id, owner: alice, limits: limits)
        #expect(!first.duplicate && first.document.status == .queued && first.document.byteCount == 5)
        let again = try await store.addDocument(document("# One", name: "copy.md"), baseID: base.id, owner: alice, limits: limits)
        #expect(again.duplicate && again.document.id == first.document.id && again.document.name == "notes.md")
        _ = try await store.addDocument(document("# Two"), baseID: base.id, owner: alice, limits: limits)
        _ = try await store.addDocument(document("# Three"), baseID: base.id, owner: alice, limits: limits)
        await #expect(throws: ParleyError.self) {
            try await store.addDocument(document("# Four"), baseID: base.id, owner: alice, limits: limits)
        }
        #expect(try await store.documents(baseID: base.id, reader: alice).count == 3)
        #expect(try await store.knowledgeBase(id: base.id, reader: alice).documentCount == 3)
        await #expect(throws: ParleyError.self) { try await store.documents(baseID: base.id, reader: bob) }
        await #expect(throws: ParleyError.self) {
            try await store.document(id: first.document.id, baseID: base.id, reader: bob)
        }
        // The same content in another base is another document.
        let other = try await store.createKnowledgeBase(NewKnowledgeBase(name: "Other"), owner: alice, limits: limits)
        #expect(try await store.addDocument(document("# One"), baseID: other.id, owner: alice, limits: limits).duplicate == false)
        // An id from one base does not open through another.
        await #expect(throws: ParleyError.self) {
            try await store.document(id: first.document.id, baseID: other.id, reader: alice)
        }
    }

    static func ingestionMakesPassagesSearchableWhenReady(_ store: Store) async throws {
        #expect(try await store.claimDocument(holder: "w1", lease: .seconds(60)) == nil)
        let base = try await store.createKnowledgeBase(NewKnowledgeBase(name: "Docs", embeddingModel: "e"), owner: alice, limits: limits)
        let added = try await store.addDocument(document("# Setup\nInstall the router."), baseID: base.id, owner: alice, limits: limits)
        let claim = try #require(try await store.claimDocument(holder: "w1", lease: .seconds(60)))
        #expect(claim.document.id == added.document.id && claim.document.status == .processing && claim.document.attempts == 1)
        #expect(claim.content == Array("# Setup\nInstall the router.".utf8) && claim.embeddingModel == "e")
        #expect(try await store.claimDocument(holder: "w2", lease: .seconds(60)) == nil, "a held document is not claimed twice")
        let records = [chunk("Install the router with the installer.", ordinal: 0, page: 1, vector: [1, 0, 0]),
                       chunk("Reboot the modem when the light blinks.", ordinal: 1, page: 2, vector: [0, 1, 0])]
        #expect(try await store.storeChunks(records, documentID: claim.document.id, holder: "w1", embeddingModel: "e"))
        #expect(try await store.searchPassages(terms: ["router"], baseIDs: [base.id], reader: alice, limit: 5).isEmpty,
                "passages are not searchable before their document is ready")
        let version = try await store.knowledgeBase(id: base.id, reader: alice).indexVersion
        #expect(try await store.finishDocument(id: claim.document.id, holder: "w1", kind: "markdown", embeddingDimensions: 3))
        let ready = try await store.document(id: claim.document.id, baseID: base.id, reader: alice)
        #expect(ready.status == .ready && ready.chunkCount == 2 && ready.kind == "markdown")
        let after = try await store.knowledgeBase(id: base.id, reader: alice)
        #expect(after.indexVersion > version && after.embeddingDimensions == 3 && after.chunkCount == 2)

        let hits = try await store.searchPassages(terms: ["routers", "installing"], baseIDs: [base.id], reader: alice, limit: 5)
        #expect(hits.count == 1, "stemming matches router/routers and install/installing")
        let passage = try #require(hits.first?.passage)
        #expect(passage.text == "Install the router with the installer." && passage.page == 1 && passage.documentName == "notes.md")
        #expect(passage.headingPath == ["Guide", "Setup"] && passage.start == 0 && passage.end == 38)
        #expect(try await store.searchPassages(terms: ["modem", "router"], baseIDs: [base.id], reader: alice, limit: 5).count == 2,
                "any term may match")
        let vectors = try await store.passageVectors(baseID: base.id, afterID: 0, limit: 10)
        #expect(vectors.count == 2 && vectors[0].vector.codes == [127, 0, 0] && vectors[1].id > vectors[0].id)
        #expect(try await store.passageVectors(baseID: base.id, afterID: vectors[0].id, limit: 10).map(\.id) == [vectors[1].id])
        let byID = try await store.passages(ids: vectors.map(\.id), baseIDs: [base.id], reader: alice)
        #expect(Set(byID.map(\.text)) == Set(records.map(\.chunk.text)))
        #expect(try await store.chunks(documentID: ready.id, baseID: base.id, reader: alice).map(\.ordinal) == [0, 1])
        #expect(try await store.storeChunks(records, documentID: ready.id, holder: "w1", embeddingModel: "e") == false, "a ready document takes no more")
    }

    static func anExpiredLeasePassesTheDocumentOn(_ store: Store) async throws {
        let base = try await store.createKnowledgeBase(NewKnowledgeBase(name: "Docs"), owner: alice, limits: limits)
        _ = try await store.addDocument(document("text"), baseID: base.id, owner: alice, limits: limits)
        let first = try #require(try await store.claimDocument(holder: "dead", lease: .milliseconds(50)))
        #expect(try await store.storeChunks([chunk("half done", ordinal: 0)], documentID: first.document.id, holder: "dead", embeddingModel: nil))
        try await Task.sleep(for: .milliseconds(120))
        let second = try #require(try await store.claimDocument(holder: "alive", lease: .seconds(60)))
        #expect(second.document.id == first.document.id && second.document.attempts == 2)
        #expect(try await store.renewDocumentLease(id: first.document.id, holder: "dead", lease: .seconds(60)) == false)
        #expect(try await store.storeChunks([chunk("late", ordinal: 1)], documentID: first.document.id, holder: "dead", embeddingModel: nil) == false)
        #expect(try await store.renewDocumentLease(id: first.document.id, holder: "alive", lease: .seconds(60)))
        #expect(try await store.storeChunks([chunk("whole", ordinal: 0)], documentID: first.document.id, holder: "alive", embeddingModel: nil))
        #expect(try await store.finishDocument(id: first.document.id, holder: "alive", kind: "text", embeddingDimensions: nil))
        let passages = try await store.chunks(documentID: first.document.id, baseID: base.id, reader: alice)
        #expect(passages.map(\.text) == ["whole"], "what the dead worker stored was removed when the document was taken over")
    }

    static func cancelFailBackOffAndRetry(_ store: Store) async throws {
        let base = try await store.createKnowledgeBase(NewKnowledgeBase(name: "Docs"), owner: alice, limits: limits)
        let added = try await store.addDocument(document("cancel me"), baseID: base.id, owner: alice, limits: limits).document
        let claim = try #require(try await store.claimDocument(holder: "w", lease: .seconds(60)))
        await #expect(throws: ParleyError.self) { try await store.cancelDocument(id: added.id, baseID: base.id, owner: bob) }
        let cancelled = try await store.cancelDocument(id: added.id, baseID: base.id, owner: alice)
        #expect(cancelled.status == .cancelled)
        #expect(try await store.renewDocumentLease(id: claim.document.id, holder: "w", lease: .seconds(60)) == false)
        #expect(try await store.finishDocument(id: claim.document.id, holder: "w", kind: "text", embeddingDimensions: nil) == false)
        await #expect(throws: ParleyError.self) { try await store.cancelDocument(id: added.id, baseID: base.id, owner: alice) }
        #expect(try await store.retryDocument(id: added.id, baseID: base.id, owner: alice).status == .queued)
        await #expect(throws: ParleyError.self) { try await store.retryDocument(id: added.id, baseID: base.id, owner: alice) }

        // A failure that may pass waits out its backoff; one that cannot is final.
        let again = try #require(try await store.claimDocument(holder: "w", lease: .seconds(60)))
        try await store.failDocument(id: again.document.id, holder: "w", error: "upstream 503", retryAt: Date().addingTimeInterval(0.3))
        let waiting = try await store.document(id: added.id, baseID: base.id, reader: alice)
        #expect(waiting.status == .queued && waiting.error == "upstream 503" && waiting.attempts == 1)
        #expect(try await store.claimDocument(holder: "w", lease: .seconds(60)) == nil, "not before its backoff")
        try await Task.sleep(for: .milliseconds(400))
        let third = try #require(try await store.claimDocument(holder: "w", lease: .seconds(60)))
        #expect(third.document.attempts == 2)
        try await store.failDocument(id: third.document.id, holder: "w", error: "the PDF is encrypted", retryAt: nil)
        let failed = try await store.document(id: added.id, baseID: base.id, reader: alice)
        #expect(failed.status == .failed && failed.error == "the PDF is encrypted")
        // Uploading the same content again queues the failed document again.
        let reupload = try await store.addDocument(document("cancel me"), baseID: base.id, owner: alice, limits: limits)
        #expect(reupload.duplicate && reupload.document.status == .queued && reupload.document.attempts == 0)
    }

    static func pinnedDocuments(_ store: Store) async throws {
        let base = try await store.createKnowledgeBase(NewKnowledgeBase(name: "Docs"), owner: alice, limits: limits)
        let first = try await store.addDocument(document("a"), baseID: base.id, owner: alice, limits: limits).document
        try await ingest(store, ["Part one.", "Part two.", "Part three."])
        let second = try await store.addDocument(document("b"), baseID: base.id, owner: alice, limits: limits).document
        try await ingest(store, ["Other words."])
        let pending = try await store.addDocument(document("c"), baseID: base.id, owner: alice, limits: limits).document
        #expect(try await store.pinnedPassages(baseIDs: [base.id], reader: alice, limit: 100).isEmpty)

        let pinned = try await store.pinDocument(id: first.id, baseID: base.id, owner: alice, pinned: true, maxPinned: 2)
        #expect(pinned.pinned && pinned.status == .ready)
        #expect(try await store.documents(baseID: base.id, reader: alice).first { $0.id == first.id }?.pinned == true)
        let whole = try await store.pinnedPassages(baseIDs: [base.id], reader: alice, limit: 100)
        #expect(whole.map(\.text) == ["Part one.", "Part two.", "Part three."] && whole.allSatisfy { $0.documentID == first.id })
        #expect(try await store.pinnedPassages(baseIDs: [base.id], reader: alice, limit: 2).count == 2)
        // A pinned document still being read gives nothing until it is ready; the limit counts it.
        _ = try await store.pinDocument(id: pending.id, baseID: base.id, owner: alice, pinned: true, maxPinned: 2)
        #expect(try await store.pinnedPassages(baseIDs: [base.id], reader: alice, limit: 100).count == 3)
        await #expect(throws: ParleyError.self) {
            try await store.pinDocument(id: second.id, baseID: base.id, owner: alice, pinned: true, maxPinned: 2)
        }
        // Pinning again changes nothing; unpinning makes room.
        _ = try await store.pinDocument(id: first.id, baseID: base.id, owner: alice, pinned: true, maxPinned: 2)
        _ = try await store.pinDocument(id: pending.id, baseID: base.id, owner: alice, pinned: false, maxPinned: 2)
        _ = try await store.pinDocument(id: second.id, baseID: base.id, owner: alice, pinned: true, maxPinned: 2)
        #expect(try await store.pinnedPassages(baseIDs: [base.id], reader: alice, limit: 100).map(\.text)
            == ["Part one.", "Part two.", "Part three.", "Other words."])

        // Only the owner pins; only readers read; an unknown document is not found.
        await #expect(throws: ParleyError.self) {
            try await store.pinDocument(id: first.id, baseID: base.id, owner: bob, pinned: false, maxPinned: 2)
        }
        await #expect(throws: ParleyError.self) {
            try await store.pinDocument(id: UUID(), baseID: base.id, owner: alice, pinned: true, maxPinned: 2)
        }
        #expect(try await store.pinnedPassages(baseIDs: [base.id], reader: bob, limit: 100).isEmpty)
        _ = try await store.updateKnowledgeBase(id: base.id, owner: alice, patch: KnowledgeBasePatch(readers: [bob]))
        #expect(try await store.pinnedPassages(baseIDs: [base.id], reader: bob, limit: 100).count == 4)
        await #expect(throws: ParleyError.self) {
            try await store.pinDocument(id: first.id, baseID: base.id, owner: bob, pinned: false, maxPinned: 2)
        }
        // A deleted pinned document is gone at once.
        try await store.deleteDocument(id: first.id, baseID: base.id, owner: alice)
        #expect(try await store.pinnedPassages(baseIDs: [base.id], reader: alice, limit: 100).map(\.text) == ["Other words."])
    }

    static func assistantsBelongToTheirOwner(_ knowledge: Store) async throws {
        let store = try #require(knowledge as? any AssistantStore)
        let base = UUID(), other = UUID()
        let support = try await store.createAssistant(
            AssistantSettings(name: "Support", description: "Answers from the manuals", systemPrompt: "Be brief.", model: "mock-1",
                              knowledgeBaseIDs: [base, other], retrieval: RetrievalSettings(passages: 4, rerank: false)),
            owner: alice, maxPerUser: 2)
        #expect(support.name == "Support" && support.systemPrompt == "Be brief." && support.model == "mock-1")
        #expect(support.retrieval == RetrievalSettings(passages: 4, rerank: false))
        #expect(support.knowledgeBaseIDs == [base, other] && support.ownerID == alice)
        let plain = try await store.createAssistant(AssistantSettings(name: "another"), owner: alice, maxPerUser: 2)
        #expect(plain.systemPrompt == nil && plain.model == nil && plain.knowledgeBaseIDs.isEmpty && plain.description.isEmpty)
        #expect(plain.retrieval.isEmpty)
        await #expect(throws: ParleyError.self) {
            try await store.createAssistant(AssistantSettings(name: "third"), owner: alice, maxPerUser: 2)
        }
        #expect(try await store.assistants(owner: alice).map(\.name) == ["another", "Support"], "by name, case aside")
        #expect(try await store.assistants(owner: bob).isEmpty)

        let changed = try await store.updateAssistant(id: support.id, owner: alice,
                                                      settings: AssistantSettings(systemPrompt: .some(nil), knowledgeBaseIDs: [other]))
        #expect(changed.name == "Support" && changed.systemPrompt == nil && changed.model == "mock-1" && changed.knowledgeBaseIDs == [other])
        #expect(changed.retrieval == RetrievalSettings(passages: 4, rerank: false), "left as it was")
        let resettled = try await store.updateAssistant(id: support.id, owner: alice, settings: AssistantSettings(
            retrieval: RetrievalSettings(minimumSimilarity: 0.5)))
        #expect(resettled.retrieval == RetrievalSettings(minimumSimilarity: 0.5) && resettled.knowledgeBaseIDs == [other])
        #expect(try await store.assistant(id: support.id, owner: alice) == resettled)
        // Another user's id behaves as an unknown one.
        await #expect(throws: ParleyError.self) { try await store.assistant(id: support.id, owner: bob) }
        await #expect(throws: ParleyError.self) {
            try await store.updateAssistant(id: support.id, owner: bob, settings: AssistantSettings(name: "mine"))
        }
        await #expect(throws: ParleyError.self) { try await store.deleteAssistant(id: support.id, owner: bob) }
        try await store.deleteAssistant(id: support.id, owner: alice)
        await #expect(throws: ParleyError.self) { try await store.assistant(id: support.id, owner: alice) }
        await #expect(throws: ParleyError.self) { try await store.deleteAssistant(id: support.id, owner: alice) }
        #expect(try await store.assistants(owner: alice).map(\.id) == [plain.id])
    }

    static func aDeletedDocumentLeavesRetrievalAtOnce(_ store: Store) async throws {
        let base = try await store.createKnowledgeBase(NewKnowledgeBase(name: "Docs"), owner: alice, limits: limits)
        let added = try await store.addDocument(document("a"), baseID: base.id, owner: alice, limits: limits).document
        try await ingest(store, ["The warranty lasts two years."], vectors: [[0, 0, 1]])
        let ids = try await store.passageVectors(baseID: base.id, afterID: 0, limit: 10).map(\.id)
        #expect(try await store.searchPassages(terms: ["warranty"], baseIDs: [base.id], reader: alice, limit: 5).count == 1)
        await #expect(throws: ParleyError.self) { try await store.deleteDocument(id: added.id, baseID: base.id, owner: bob) }
        let version = try await store.knowledgeBase(id: base.id, reader: alice).indexVersion
        try await store.deleteDocument(id: added.id, baseID: base.id, owner: alice)
        #expect(try await store.searchPassages(terms: ["warranty"], baseIDs: [base.id], reader: alice, limit: 5).isEmpty)
        #expect(try await store.passages(ids: ids, baseIDs: [base.id], reader: alice).isEmpty)
        #expect(try await store.passageVectors(baseID: base.id, afterID: 0, limit: 10).isEmpty)
        #expect(try await store.knowledgeBase(id: base.id, reader: alice).indexVersion > version)
        await #expect(throws: ParleyError.self) { try await store.document(id: added.id, baseID: base.id, reader: alice) }
        // Deleting the base takes everything with it.
        _ = try await store.addDocument(document("b"), baseID: base.id, owner: alice, limits: limits)
        try await ingest(store, ["Another warranty passage."])
        try await store.deleteKnowledgeBase(id: base.id, owner: alice)
        #expect(try await store.searchPassages(terms: ["warranty"], baseIDs: [base.id], reader: alice, limit: 5).isEmpty)
        #expect(try await store.claimDocument(holder: "w", lease: .seconds(1)) == nil)
    }

    static func searchIsScopedInsideTheQuery(_ store: Store) async throws {
        let mine = try await store.createKnowledgeBase(NewKnowledgeBase(name: "Mine"), owner: alice, limits: limits)
        let theirs = try await store.createKnowledgeBase(NewKnowledgeBase(name: "Theirs"), owner: bob, limits: limits)
        _ = try await store.addDocument(document("m"), baseID: mine.id, owner: alice, limits: limits)
        try await ingest(store, ["Alice's refund policy: thirty days."], vectors: [[1, 0]])
        _ = try await store.addDocument(document("t"), baseID: theirs.id, owner: bob, limits: limits)
        try await ingest(store, ["Bob's refund policy: secret."], vectors: [[0, 1]])
        let both = [mine.id, theirs.id]
        let aliceSees = try await store.searchPassages(terms: ["refund"], baseIDs: both, reader: alice, limit: 10)
        #expect(aliceSees.map(\.passage.baseID) == [mine.id], "naming another user's base finds nothing in it")
        let bobIDs = try await store.passageVectors(baseID: theirs.id, afterID: 0, limit: 10).map(\.id)
        #expect(try await store.passages(ids: bobIDs, baseIDs: both, reader: alice).isEmpty)
        _ = try await store.updateKnowledgeBase(id: theirs.id, owner: bob, patch: KnowledgeBasePatch(readers: [alice]))
        #expect(try await store.searchPassages(terms: ["refund"], baseIDs: both, reader: alice, limit: 10).count == 2)
        #expect(try await store.passages(ids: bobIDs, baseIDs: both, reader: alice).count == 1)
        #expect(try await store.searchPassages(terms: ["refund"], baseIDs: both, reader: carol, limit: 10).isEmpty)
    }

    static func commonWordsOnlyRank(_ store: Store) async throws {
        let manual = try await store.createKnowledgeBase(NewKnowledgeBase(name: "Manual"), owner: alice, limits: limits)
        let pump = try await store.createKnowledgeBase(NewKnowledgeBase(name: "Pump"), owner: alice, limits: limits)
        _ = try await store.addDocument(document("manual"), baseID: manual.id, owner: alice, limits: limits)
        let steps = (0..<FullTextPlan.commonAt).map { "Step \($0): fit the bracket." }
        try await ingest(store, steps + ["Gasket: step one fits the gasket.", "Gasket colour is black.", "The bracket is grey."])
        _ = try await store.addDocument(document("pump"), baseID: pump.id, owner: alice, limits: limits)
        try await ingest(store, ["Pump step: prime it."])

        let gasket = try await store.searchPassages(terms: ["step", "gasket"], baseIDs: [manual.id], reader: alice, limit: 50)
        #expect(gasket.map(\.passage.text) == ["Gasket: step one fits the gasket.", "Gasket colour is black."],
                "the rare word chooses the passages, the common one ranks the passage that has both first")
        let elsewhere = try await store.searchPassages(terms: ["step", "gasket"], baseIDs: [pump.id], reader: alice, limit: 50)
        #expect(elsewhere.map(\.passage.text) == ["Pump step: prime it."],
                "when the rare word is in no base searched, the common one is asked on its own")
        let common = try await store.searchPassages(terms: ["step", "bracket"], baseIDs: [manual.id], reader: alice, limit: 20)
        #expect(common.count == 20 && common.allSatisfy { $0.passage.text.hasPrefix("Step ") },
                "when every word is common, passages with all of them are found")
        #expect(try await store.searchPassages(terms: ["nowhere"], baseIDs: [manual.id], reader: alice, limit: 5).isEmpty)
    }

    static func rankingIsBounded(_ store: Store) async throws {
        let pumps = try await store.createKnowledgeBase(NewKnowledgeBase(name: "Pumps"), owner: alice, limits: limits)
        let valves = try await store.createKnowledgeBase(NewKnowledgeBase(name: "Valves"), owner: alice, limits: limits)
        // The oldest passages say "valve" most often: ranked with the others, they would come first.
        _ = try await store.addDocument(document("old"), baseID: pumps.id, owner: alice, limits: limits)
        try await ingest(store, (0..<200).map { "Valve \($0): valve, valve, valve, gasket." })
        _ = try await store.addDocument(document("new"), baseID: pumps.id, owner: alice, limits: limits)
        try await ingest(store, (0..<FullTextPlan.rankedAtMost).map { $0 < 600 ? "Valve seal \($0)." : "Valve gasket \($0)." })
        // Newer still, in a base not searched: they take no place among the passages ranked.
        _ = try await store.addDocument(document("other"), baseID: valves.id, owner: alice, limits: limits)
        try await ingest(store, (0..<300).map { "Valve body \($0): valve, valve, valve, valve." })
        let newest = { (passage: RankedPassage) in
            passage.passage.text.hasPrefix("Valve seal ") || passage.passage.text.hasPrefix("Valve gasket ")
        }

        let common = try await store.searchPassages(terms: ["valve"], baseIDs: [pumps.id], reader: alice, limit: 2_000)
        #expect(common.count == FullTextPlan.rankedAtMost && common.allSatisfy(newest),
                "a common word ranks the newest matches in the base searched, not all 1,200")
        let selective = try await store.searchPassages(terms: ["seal", "gasket"], baseIDs: [pumps.id], reader: alice, limit: 2_000)
        #expect(selective.count == FullTextPlan.rankedAtMost && selective.allSatisfy(newest),
                "rarer words that together match 1,200 passages are bounded too")
        let both = try await store.searchPassages(terms: ["valve"], baseIDs: [pumps.id, valves.id], reader: alice, limit: 5)
        #expect(both.count == 5 && both.allSatisfy { $0.passage.text.hasPrefix("Valve body ") })
        #expect(try await store.searchPassages(terms: ["valve"], baseIDs: [pumps.id], reader: bob, limit: 5).isEmpty)
    }

    static func tiesComeInStoredOrder(_ store: Store) async throws {
        let base = try await store.createKnowledgeBase(NewKnowledgeBase(name: "Pumps"), owner: alice, limits: limits)
        _ = try await store.addDocument(document("same"), baseID: base.id, owner: alice, limits: limits)
        try await ingest(store, Array(repeating: "The pump gasket fits.", count: 6))
        let found = try await store.searchPassages(terms: ["gasket"], baseIDs: [base.id], reader: alice, limit: 4)
        #expect(found.map(\.passage.ordinal) == [0, 1, 2, 3], "equal scores are broken by id, the same on every database")
        #expect(Set(found.map(\.score)).count == 1)
    }

    static func changingTheEmbeddingModel(_ store: Store) async throws {
        let base = try await store.createKnowledgeBase(NewKnowledgeBase(name: "Docs", embeddingModel: "old"), owner: alice,
                                                       limits: limits)
        _ = try await store.addDocument(document("a"), baseID: base.id, owner: alice, limits: limits)
        try await ingest(store, ["The warranty lasts two years."], vectors: [[1, 0, 0]])
        await #expect(throws: ParleyError.self) { try await store.changeEmbeddingModel(baseID: base.id, owner: bob, model: "new") }
        let changing = try await store.changeEmbeddingModel(baseID: base.id, owner: alice, model: "new")
        #expect(changing.embeddingModel == "old" && changing.embeddingDimensions == 3, "the current model answers meanwhile")
        #expect(changing.reembedding == Reembedding(model: "new", status: .queued, embedded: 0, total: 1, attempts: 0, error: nil))

        // A document ingested meanwhile is embedded with the current model, and again before the swap.
        _ = try await store.addDocument(document("b"), baseID: base.id, owner: alice, limits: limits)
        try await ingest(store, ["Returns are accepted for thirty days."], vectors: [[0, 1, 0]])
        let job = try #require(try await store.claimReembedding(holder: "w1", lease: .seconds(60)))
        #expect(job.baseID == base.id && job.model == "new" && job.attempts == 1)
        #expect(try await store.claimReembedding(holder: "w2", lease: .seconds(60)) == nil, "a held re-embedding is not claimed twice")
        #expect(try await store.passagesToReembed(baseID: base.id, holder: "w2", limit: 10) == nil)
        let first = try await store.passagesToReembed(baseID: base.id, holder: "w1", limit: 1)
        #expect(first?.map(\.text) == ["The warranty lasts two years."] && first?.first?.headingPath == ["Guide", "Setup"])
        let firstID = try #require(first?.first?.id)
        #expect(try await store.storeReembedded([PassageVector(id: firstID, vector: StoredVector([0, 1]))], baseID: base.id,
                                                holder: "w2") == false)
        #expect(try await store.storeReembedded([PassageVector(id: firstID, vector: StoredVector([0, 1]))], baseID: base.id,
                                                holder: "w1"))
        #expect(try await store.passageVectors(baseID: base.id, afterID: 0, limit: 10).map(\.vector.codes) == [[127, 0, 0], [0, 127, 0]],
                "searches use the current vectors until the swap")
        let progress = try await store.knowledgeBase(id: base.id, reader: alice).reembedding
        #expect(progress?.status == .processing && progress?.embedded == 1 && progress?.total == 2)
        // A document claimed now, before the swap, is embedded with the model that is about to go.
        _ = try await store.addDocument(document("c"), baseID: base.id, owner: alice, limits: limits)
        let late = try #require(try await store.claimDocument(holder: "w3", lease: .seconds(60)))
        #expect(late.embeddingModel == "old")

        let second = try #require(try await store.passagesToReembed(baseID: base.id, holder: "w1", limit: 10))
        #expect(second.map(\.text) == ["Returns are accepted for thirty days."])
        #expect(try await store.finishReembedding(baseID: base.id, holder: "w1", dimensions: 2) == .passagesLeft)
        #expect(try await store.storeReembedded(second.map { PassageVector(id: $0.id, vector: StoredVector([1, 0])) }, baseID: base.id,
                                                holder: "w1"))
        let version = try await store.knowledgeBase(id: base.id, reader: alice).indexVersion
        #expect(try await store.finishReembedding(baseID: base.id, holder: "w2", dimensions: 2) == .lost)
        #expect(try await store.finishReembedding(baseID: base.id, holder: "w1", dimensions: 2) == .finished)
        let changed = try await store.knowledgeBase(id: base.id, reader: alice)
        #expect(changed.embeddingModel == "new" && changed.embeddingDimensions == 2 && changed.reembedding == nil)
        #expect(changed.indexVersion > version, "searches reload the index")
        #expect(try await store.passageVectors(baseID: base.id, afterID: 0, limit: 10).map(\.vector.codes) == [[0, 127], [127, 0]])
        #expect(try await store.renewReembeddingLease(baseID: base.id, holder: "w1", lease: .seconds(60)) == false)
        await #expect(throws: ParleyError.self, "passages embedded with the old model are refused after the swap") {
            try await store.storeChunks([chunk("stale", ordinal: 0, vector: [1, 0, 0])], documentID: late.document.id,
                                        holder: "w3", embeddingModel: "old")
        }
        #expect(try await store.storeChunks([chunk("fresh", ordinal: 0, vector: [1, 0])], documentID: late.document.id,
                                            holder: "w3", embeddingModel: "new"))
    }

    static func reembeddingEndsAndHandsOver(_ store: Store) async throws {
        let empty = try await store.createKnowledgeBase(NewKnowledgeBase(name: "Empty", embeddingModel: "old"), owner: alice,
                                                        limits: limits)
        let switched = try await store.changeEmbeddingModel(baseID: empty.id, owner: alice, model: "new")
        #expect(switched.embeddingModel == "new" && switched.reembedding == nil, "a base with no passages changes at once")

        let base = try await store.createKnowledgeBase(NewKnowledgeBase(name: "Docs", embeddingModel: "old"), owner: alice,
                                                       limits: limits)
        _ = try await store.addDocument(document("a"), baseID: base.id, owner: alice, limits: limits)
        try await ingest(store, ["The warranty lasts two years."], vectors: [[1, 0, 0]])
        _ = try await store.changeEmbeddingModel(baseID: base.id, owner: alice, model: "broken")
        let dead = try #require(try await store.claimReembedding(holder: "dead", lease: .milliseconds(50)))
        let passage = try #require(try await store.passagesToReembed(baseID: base.id, holder: "dead", limit: 10)?.first)
        #expect(try await store.storeReembedded([PassageVector(id: passage.id, vector: StoredVector([0, 1]))], baseID: base.id,
                                                holder: "dead"))
        try await Task.sleep(for: .milliseconds(120))
        let alive = try #require(try await store.claimReembedding(holder: "alive", lease: .seconds(60)))
        #expect(alive.baseID == dead.baseID && alive.attempts == 2)
        #expect(try await store.renewReembeddingLease(baseID: base.id, holder: "dead", lease: .seconds(60)) == false)
        try await store.failReembedding(baseID: base.id, holder: "alive", error: "no such model", retryAt: nil)
        let failed = try await store.knowledgeBase(id: base.id, reader: alice)
        #expect(failed.reembedding?.status == .failed && failed.reembedding?.error == "no such model")
        #expect(failed.embeddingModel == "old")
        #expect(try await store.claimReembedding(holder: "w", lease: .seconds(60)) == nil, "a failed re-embedding waits for its owner")

        // Naming the current model again stops it; naming another starts afresh.
        let stopped = try await store.changeEmbeddingModel(baseID: base.id, owner: alice, model: "old")
        #expect(stopped.reembedding == nil && stopped.embeddingModel == "old")
        let again = try await store.changeEmbeddingModel(baseID: base.id, owner: alice, model: "new")
        #expect(again.reembedding?.embedded == 0, "vectors of an abandoned change are not reused")
        let retrying = try #require(try await store.claimReembedding(holder: "w", lease: .seconds(60)))
        try await store.failReembedding(baseID: base.id, holder: "w", error: "upstream down", retryAt: Date().addingTimeInterval(60))
        let queued = try await store.knowledgeBase(id: base.id, reader: alice).reembedding
        #expect(retrying.attempts == 1 && queued?.status == .queued && queued?.error == "upstream down")
        #expect(try await store.claimReembedding(holder: "w", lease: .seconds(60)) == nil, "not before its backoff")

        // No model: full-text only, at once.
        let plain = try await store.changeEmbeddingModel(baseID: base.id, owner: alice, model: nil)
        #expect(plain.embeddingModel == nil && plain.embeddingDimensions == nil && plain.reembedding == nil)
        #expect(try await store.passageVectors(baseID: base.id, afterID: 0, limit: 10).isEmpty)
        #expect(try await store.searchPassages(terms: ["warranty"], baseIDs: [base.id], reader: alice, limit: 5).count == 1)
    }
}
