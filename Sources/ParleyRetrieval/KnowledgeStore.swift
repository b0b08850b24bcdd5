import Foundation
import ParleyCore

/// Durable storage of knowledge bases, their documents, passages and vectors, and the ingestion queue.
///
/// Every call that reads or changes user data takes the user: a base that is neither theirs nor shared with them
/// behaves as an unknown id (``ParleyError/notFound(_:)``), and only its owner may change it. Passages are
/// searchable only once their document is `ready`, and leave every search when it is deleted. The contract suite
/// in `ParleyStoreTests` holds both databases to this.
public protocol KnowledgeStore: Sendable {
    func createKnowledgeBase(_ new: NewKnowledgeBase, owner: UserID, limits: KnowledgeLimits) async throws -> KnowledgeBase
    /// The bases the user owns or may read, most recently changed first.
    func knowledgeBases(reader: UserID) async throws -> [KnowledgeBase]
    /// A base the user owns or may read.
    func knowledgeBase(id: UUID, reader: UserID) async throws -> KnowledgeBase
    /// Only the owner may change a base; `sharedWithEveryone` is the caller's to check (admins only).
    func updateKnowledgeBase(id: UUID, owner: UserID, patch: KnowledgeBasePatch) async throws -> KnowledgeBase
    /// Deletes the base with its documents and passages.
    func deleteKnowledgeBase(id: UUID, owner: UserID) async throws

    /// Stores a document and queues its ingestion. The same content (by SHA-256) is kept once per base: uploading
    /// it again returns the document already there (`duplicate` true), queued again if it had failed or been
    /// cancelled.
    func addDocument(_ new: NewDocument, baseID: UUID, owner: UserID, limits: KnowledgeLimits) async throws
        -> AddedDocument
    /// The base's documents, newest first.
    func documents(baseID: UUID, reader: UserID) async throws -> [KnowledgeDocument]
    func document(id: UUID, baseID: UUID, reader: UserID) async throws -> KnowledgeDocument
    /// The document's content as uploaded.
    func documentContent(id: UUID, baseID: UUID, reader: UserID) async throws -> [UInt8]
    /// The document's passages in order, for reading its text as the index holds it.
    func chunks(documentID: UUID, baseID: UUID, reader: UserID) async throws -> [StoredPassage]
    /// Deletes a document and its passages; they leave retrieval in the same transaction.
    /// Pins or unpins a document (owner only); pinning more than `maxPinned` documents of a base is a conflict.
    func pinDocument(id: UUID, baseID: UUID, owner: UserID, pinned: Bool, maxPinned: Int) async throws -> KnowledgeDocument
    /// The passages of the pinned, ready documents of those `baseIDs` that `reader` may read, each document's in
    /// reading order (documents oldest first); at most `limit`.
    func pinnedPassages(baseIDs: [UUID], reader: UserID, limit: Int) async throws -> [StoredPassage]
    func deleteDocument(id: UUID, baseID: UUID, owner: UserID) async throws
    /// Stops a pending ingestion; throws ``ParleyError/conflict(_:)`` for a document that is not pending.
    func cancelDocument(id: UUID, baseID: UUID, owner: UserID) async throws -> KnowledgeDocument
    /// Queues a failed or cancelled document again, with its attempts reset.
    func retryDocument(id: UUID, baseID: UUID, owner: UserID) async throws -> KnowledgeDocument

    // MARK: Ingestion (any replica, under a lease)

    /// Takes the oldest document that is queued (and past its backoff) or whose worker's lease expired, for
    /// `holder`, until `lease` from now by the database's clock. Its earlier passages, if a worker died while
    /// storing them, are removed.
    func claimDocument(holder: String, lease: Duration) async throws -> IngestionClaim?
    /// Extends the lease; false when the document is no longer this holder's to work on (cancelled, deleted,
    /// or taken over after the lease expired).
    func renewDocumentLease(id: UUID, holder: String, lease: Duration) async throws -> Bool
    /// Stores a batch of the document's passages (not yet searchable); false as for ``renewDocumentLease``.
    /// Throws ``ParleyError/conflict(_:)`` when the base's embedding model is no longer `embeddingModel`, the one
    /// the batch was embedded with (it changed while the document was read).
    func storeChunks(_ chunks: [ChunkRecord], documentID: UUID, holder: String, embeddingModel: String?) async throws -> Bool
    /// Makes the document `ready` (its passages searchable at once) with its kind, and records the base's vector
    /// dimension if it had none; false as for ``renewDocumentLease``.
    func finishDocument(id: UUID, holder: String, kind: String, embeddingDimensions: Int?) async throws -> Bool
    /// Ends an attempt that failed: queued again after `retryAt` when given, else `failed`. Its stored passages go.
    func failDocument(id: UUID, holder: String, error: String, retryAt: Date?) async throws

    // MARK: Changing the embedding model (owner only; the work runs on any replica, under a lease)

    /// Makes `model` the base's embedding model. A base with no passages, or a change to none (full-text only),
    /// changes at once; otherwise a re-embedding is queued (replacing one under way) and the current model keeps
    /// answering until it finishes. Naming the current model stops a re-embedding under way.
    func changeEmbeddingModel(baseID: UUID, owner: UserID, model: String?) async throws -> KnowledgeBase
    /// Takes the oldest queued re-embedding (past its backoff) or one whose worker's lease expired.
    func claimReembedding(holder: String, lease: Duration) async throws -> ReembeddingClaim?
    /// Extends the lease; false when the re-embedding is no longer this holder's (replaced, stopped, taken over).
    func renewReembeddingLease(baseID: UUID, holder: String, lease: Duration) async throws -> Bool
    /// Passages of the base that have no vector of the new model yet, in id order; nil when the lease is lost.
    func passagesToReembed(baseID: UUID, holder: String, limit: Int) async throws -> [PassageText]?
    /// Stores vectors of the new model beside the current ones; false when the lease is lost.
    func storeReembedded(_ vectors: [PassageVector], baseID: UUID, holder: String) async throws -> Bool
    /// When every passage has a vector of the new model, makes them the base's vectors and the new model its
    /// model, in one step (searches reload the index); otherwise says passages are left (added meanwhile).
    func finishReembedding(baseID: UUID, holder: String, dimensions: Int?) async throws -> ReembeddingOutcome
    /// Ends an attempt that failed: queued again after `retryAt` when given, else `failed` with the reason.
    func failReembedding(baseID: UUID, holder: String, error: String, retryAt: Date?) async throws

    // MARK: Retrieval

    /// Full-text search of the ready passages of `baseIDs` that the reader may read, best first.
    func searchPassages(terms: [String], baseIDs: [UUID], reader: UserID, limit: Int) async throws -> [RankedPassage]
    /// The stored vectors of a base's ready passages, by passage id, in id order after `afterID`, up to `limit`.
    func passageVectors(baseID: UUID, afterID: Int64, limit: Int) async throws -> [PassageVector]
    /// The passages with these ids that are ready, in bases of `baseIDs` that the reader may read.
    func passages(ids: [Int64], baseIDs: [UUID], reader: UserID) async throws -> [StoredPassage]
}

/// A stored document and whether it was already there.
public struct AddedDocument: Sendable, Equatable {
    public var document: KnowledgeDocument
    /// The same content was already in the base: nothing new was stored.
    public var duplicate: Bool
    public init(document: KnowledgeDocument, duplicate: Bool) {
        self.document = document
        self.duplicate = duplicate
    }
}

/// A base's re-embedding taken by a worker.
public struct ReembeddingClaim: Sendable, Equatable {
    public var baseID: UUID
    public var model: String
    /// This attempt's number, from 1.
    public var attempts: Int
    public init(baseID: UUID, model: String, attempts: Int) {
        self.baseID = baseID
        self.model = model
        self.attempts = attempts
    }
}

/// How an attempt to finish a re-embedding ended.
public enum ReembeddingOutcome: Sendable, Equatable {
    /// The new vectors and model are the base's.
    case finished
    /// Passages without a new vector remain (a document was added meanwhile).
    case passagesLeft
    /// The re-embedding is no longer this worker's.
    case lost
}

/// A passage's text as its vector is made from.
public struct PassageText: Sendable, Equatable {
    public var id: Int64
    public var text: String
    public var headingPath: [String]
    public init(id: Int64, text: String, headingPath: [String]) {
        self.id = id
        self.text = text
        self.headingPath = headingPath
    }
}

/// A passage's stored vector.
public struct PassageVector: Sendable, Equatable {
    public var id: Int64
    public var vector: StoredVector
    public init(id: Int64, vector: StoredVector) {
        self.id = id
        self.vector = vector
    }
}

/// A passage as stored, with where it comes from.
public struct StoredPassage: Sendable, Equatable {
    public var id: Int64
    public var baseID: UUID
    public var documentID: UUID
    public var documentName: String
    public var ordinal: Int
    public var text: String
    public var headingPath: [String]
    public var page: Int?
    /// Offsets in the document's text, in UTF-16 code units.
    public var start: Int
    public var end: Int

    public init(id: Int64, baseID: UUID, documentID: UUID, documentName: String, ordinal: Int, text: String,
                headingPath: [String], page: Int?, start: Int, end: Int) {
        self.id = id
        self.baseID = baseID
        self.documentID = documentID
        self.documentName = documentName
        self.ordinal = ordinal
        self.text = text
        self.headingPath = headingPath
        self.page = page
        self.start = start
        self.end = end
    }
}

/// A passage found by a search, with its score (higher is better; comparable only within one list).
public struct RankedPassage: Sendable, Equatable {
    public var passage: StoredPassage
    public var score: Double

    public init(passage: StoredPassage, score: Double) {
        self.passage = passage
        self.score = score
    }
}

extension StoredPassage {
    /// A heading path as one stored string, headings joined by ` › ` (which headings never hold: the chunker
    /// collapses their whitespace and this separator has a non-ASCII character).
    public static func joined(headings: [String]) -> String { headings.joined(separator: headingSeparator) }
    /// Split on the separator's bytes: Foundation's `components(separatedBy:)` (through NSString) and the standard
    /// library's `split(separator:)` with a string each cost over 20,000 instructions per passage read.
    public static func headings(joined: String) -> [String] {
        guard !joined.isEmpty else { return [] }
        let separator = Array(headingSeparator.utf8)
        let bytes = Array(joined.utf8)
        var headings: [String] = []
        var start = 0
        var index = 0
        while index + separator.count <= bytes.count {
            if bytes[index] == separator[0], bytes[index..<(index + separator.count)].elementsEqual(separator) {
                headings.append(String(decoding: bytes[start..<index], as: UTF8.self))
                index += separator.count
                start = index
            } else {
                index += 1
            }
        }
        headings.append(String(decoding: bytes[start...], as: UTF8.self))
        return headings
    }

    static let headingSeparator = " › "
}
