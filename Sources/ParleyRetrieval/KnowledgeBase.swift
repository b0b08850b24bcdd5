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
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: UUID, ownerID: UserID, name: String, description: String, embeddingModel: String?,
                embeddingDimensions: Int?, sharedWithEveryone: Bool, readers: [UserID], documentCount: Int,
                chunkCount: Int, indexVersion: Int64, createdAt: Date, updatedAt: Date) {
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
        self.createdAt = createdAt
        self.updatedAt = updatedAt
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
