import Crypto
import Foundation
import ParleyCore

/// What the API does with knowledge bases: checks what users send, stores documents and wakes ingestion, and
/// searches. Reads and changes go through the store, which scopes every one by user.
public final class KnowledgeService: Sendable {
    public let store: any KnowledgeStore
    public let limits: KnowledgeLimits
    public let retriever: HybridRetriever
    let ingestion: IngestionService?
    /// The embedding model of new bases that name none; nil: new bases are full-text only.
    public let defaultEmbeddingModel: String?

    public static let maxNameLength = 200
    public static let maxDescriptionLength = 2_000
    public static let maxReaders = 1_000

    public init(store: any KnowledgeStore, limits: KnowledgeLimits, retriever: HybridRetriever, ingestion: IngestionService?,
                defaultEmbeddingModel: String?) {
        self.store = store
        self.limits = limits
        self.retriever = retriever
        self.ingestion = ingestion
        self.defaultEmbeddingModel = defaultEmbeddingModel
    }

    public func create(_ new: NewKnowledgeBase, owner: UserID) async throws -> KnowledgeBase {
        var new = new
        new.name = try Self.checkedName(new.name)
        try Self.check(description: new.description)
        if new.embeddingModel?.isEmpty == true { new.embeddingModel = nil } else if new.embeddingModel == nil {
            new.embeddingModel = defaultEmbeddingModel
        }
        return try await store.createKnowledgeBase(new, owner: owner, limits: limits)
    }

    public func update(id: UUID, owner: UserID, patch: KnowledgeBasePatch) async throws -> KnowledgeBase {
        var patch = patch
        if let name = patch.name { patch.name = try Self.checkedName(name) }
        if let description = patch.description { try Self.check(description: description) }
        if let readers = patch.readers, readers.count > Self.maxReaders {
            throw ParleyError.invalid("a knowledge base can be shared with at most \(Self.maxReaders) users")
        }
        return try await store.updateKnowledgeBase(id: id, owner: owner, patch: patch)
    }

    /// Makes `model` the base's embedding model (nil: full-text only). With passages to embed again, the change runs
    /// in the background and the current model answers until it is done; see ``KnowledgeStore/changeEmbeddingModel``.
    public func changeEmbeddingModel(baseID: UUID, owner: UserID, to model: String?) async throws -> KnowledgeBase {
        let base = try await store.changeEmbeddingModel(baseID: baseID, owner: owner, model: model)
        if base.reembedding != nil { ingestion?.wakeReembedding() }
        return base
    }

    /// Stores an uploaded document and queues its ingestion (or returns the one already there with that content).
    public func upload(name: String, content: [UInt8], baseID: UUID, owner: UserID) async throws -> AddedDocument {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= Self.maxNameLength, !name.contains(where: { $0.isNewline }) else {
            throw ParleyError.invalid("a document needs a name of 1 to \(Self.maxNameLength) characters on one line")
        }
        guard !content.isEmpty else { throw ParleyError.invalid("the document is empty") }
        guard content.count <= limits.maxDocumentBytes else {
            throw ParleyError.tooLarge("a document may have at most \(limits.maxDocumentBytes) bytes")
        }
        let digest = Hex.encode(SHA256.hash(data: content))
        let added = try await store.addDocument(NewDocument(name: name, content: content, sha256: digest), baseID: baseID,
                                                owner: owner, limits: limits)
        if added.document.status == .queued { ingestion?.wake() }
        return added
    }

    /// Pinned documents per base: each is given whole to the model, so a few is what a context holds.
    public static let maxPinnedDocuments = 20

    /// Pins a document (its whole text goes into the context of chats with the base attached) or unpins it.
    public func pin(documentID: UUID, baseID: UUID, owner: UserID, pinned: Bool) async throws -> KnowledgeDocument {
        try await store.pinDocument(id: documentID, baseID: baseID, owner: owner, pinned: pinned, maxPinned: Self.maxPinnedDocuments)
    }

    public func retry(documentID: UUID, baseID: UUID, owner: UserID) async throws -> KnowledgeDocument {
        let document = try await store.retryDocument(id: documentID, baseID: baseID, owner: owner)
        ingestion?.wake()
        return document
    }

    /// The document's text as it was read for indexing (passages' offsets point into it).
    public func text(documentID: UUID, baseID: UUID, reader: UserID) async throws -> String {
        let document = try await store.document(id: documentID, baseID: baseID, reader: reader)
        let content = try await store.documentContent(id: documentID, baseID: baseID, reader: reader)
        do {
            return try await OffPool.run(.interactive) { try DocumentExtractor.extract(Data(content), name: document.name).document.text }
        } catch let error as ExtractionError {
            throw ParleyError.conflict("the document's text cannot be read: \(error.description)")
        }
    }

    /// Ranked passages of one base for a question; `rerank` false leaves out the configured reranker.
    public func search(_ question: String, baseID: UUID, reader: UserID, limit: Int, rerank: Bool = true) async throws -> Retrieval {
        let question = question.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !question.isEmpty, question.count <= 4_000 else {
            throw ParleyError.invalid("'query' must hold 1 to 4000 characters")
        }
        let range = RetrievalSettings.passageRange
        guard range.contains(limit) else {
            throw ParleyError.invalid("'limit' must be between \(range.lowerBound) and \(range.upperBound)")
        }
        let base = try await store.knowledgeBase(id: baseID, reader: reader)
        return try await retriever.retrieve(question, bases: [base], reader: reader, limit: limit, rerank: rerank)
    }

    static func checkedName(_ name: String) throws -> String {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= maxNameLength else {
            throw ParleyError.invalid("'name' must hold 1 to \(maxNameLength) characters")
        }
        return name
    }

    static func check(description: String) throws {
        guard description.count <= maxDescriptionLength else {
            throw ParleyError.invalid("'description' may hold at most \(maxDescriptionLength) characters")
        }
    }
}
