import Foundation
import ParleyCore

/// A collection of documents that chats can retrieve passages from. Owned by one user, readable by the users it
/// is shared with (or by everyone, when an admin shares it so).
public struct KnowledgeBase: Sendable, Equatable {
    public var id: UUID
    public var ownerID: UserID
    public var name: String
    public var description: String
    /// The model that embeds its passages (served by the router); nil: retrieval is full-text only.
    public var embeddingModel: String?
    /// The dimension of its stored vectors, known once the first document is embedded.
    public var embeddingDimensions: Int?
    /// Readable by every signed-in user.
    public var sharedWithEveryone: Bool
    /// The users it is shared with, read-only (only its owner sees this list).
    public var readers: [UserID]
    public var documentCount: Int
    public var chunkCount: Int
    /// Rises on every change to its searchable passages, so an in-memory vector index knows it is stale.
    public var indexVersion: Int64
    /// A change to another embedding model under way, if any; until it finishes, `embeddingModel` answers.
    public var reembedding: Reembedding?
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: UUID, ownerID: UserID, name: String, description: String, embeddingModel: String?,
                embeddingDimensions: Int?, sharedWithEveryone: Bool, readers: [UserID], documentCount: Int,
                chunkCount: Int, indexVersion: Int64, reembedding: Reembedding? = nil, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.ownerID = ownerID
        self.name = name
        self.description = description
        self.embeddingModel = embeddingModel
        self.embeddingDimensions = embeddingDimensions
        self.sharedWithEveryone = sharedWithEveryone
        self.readers = readers
        self.documentCount = documentCount
        self.chunkCount = chunkCount
        self.indexVersion = indexVersion
        self.reembedding = reembedding
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A knowledge base's change of embedding model: its passages are embedded again with `model` in the background,
/// while the vectors of the current model keep answering searches; the new vectors replace them in one step once
/// every passage has one.
public struct Reembedding: Sendable, Equatable {
    public enum Status: String, Sendable {
        case queued, processing, failed
    }

    public var model: String
    public var status: Status
    /// Passages embedded with `model` so far, of `total` (every passage of the base, ready or being ingested).
    public var embedded: Int
    public var total: Int
    public var attempts: Int
    /// Why the last attempt failed.
    public var error: String?

    public init(model: String, status: Status, embedded: Int, total: Int, attempts: Int, error: String?) {
        self.model = model
        self.status = status
        self.embedded = embedded
        self.total = total
        self.attempts = attempts
        self.error = error
    }
}

/// What creating a knowledge base takes.
public struct NewKnowledgeBase: Sendable {
    public var name: String
    public var description: String
    public var embeddingModel: String?

    public init(name: String, description: String = "", embeddingModel: String? = nil) {
        self.name = name
        self.description = description
        self.embeddingModel = embeddingModel
    }
}

/// A change to a knowledge base; nil fields stay as they are.
public struct KnowledgeBasePatch: Sendable {
    public var name: String?
    public var description: String?
    public var sharedWithEveryone: Bool?
    /// Replaces the list of readers.
    public var readers: [UserID]?

    public init(name: String? = nil, description: String? = nil, sharedWithEveryone: Bool? = nil, readers: [UserID]? = nil) {
        self.name = name
        self.description = description
        self.sharedWithEveryone = sharedWithEveryone
        self.readers = readers
    }
}

/// Limits on what a knowledge base may hold.
public struct KnowledgeLimits: Sendable {
    public var maxDocumentBytes: Int
    public var maxDocumentsPerBase: Int
    public var maxBasesPerUser: Int

    public init(maxDocumentBytes: Int = 32 << 20, maxDocumentsPerBase: Int = 10_000, maxBasesPerUser: Int = 100) {
        self.maxDocumentBytes = maxDocumentBytes
        self.maxDocumentsPerBase = maxDocumentsPerBase
        self.maxBasesPerUser = maxBasesPerUser
    }
}
