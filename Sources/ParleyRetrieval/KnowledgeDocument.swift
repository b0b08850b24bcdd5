import Foundation

/// Where a document is in its ingestion.
public enum DocumentStatus: String, Sendable, CaseIterable {
    /// Waiting for a worker (new, retried, or waiting out a backoff after a failure that may pass).
    case queued
    /// A worker holds its lease and is reading, chunking and embedding it.
    case processing
    /// Its passages are searchable.
    case ready
    /// It cannot be ingested; ``KnowledgeDocument/error`` says why.
    case failed
    /// Its owner stopped the ingestion.
    case cancelled

    /// Queued and processing documents still have work to do.
    public var isPending: Bool { self == .queued || self == .processing }
}

/// A file in a knowledge base and the state of its ingestion.
public struct KnowledgeDocument: Sendable, Equatable {
    public var id: UUID
    public var baseID: UUID
    public var name: String
    /// What its content turned out to be (``DocumentKind``), once read.
    public var kind: String?
    public var byteCount: Int
    /// The SHA-256 of its content, in lowercase hex: the same content is stored once per base.
    public var sha256: String
    public var status: DocumentStatus
    /// Why it failed (or, while queued for a retry, why the last attempt failed).
    public var error: String?
    public var chunkCount: Int
    /// Ingestion attempts so far.
    public var attempts: Int
    /// Pinned by the base's owner: its whole text goes into the context of every chat with the base attached,
    /// for questions about all of it, not only the passages a search finds.
    public var pinned: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: UUID, baseID: UUID, name: String, kind: String?, byteCount: Int, sha256: String,
                status: DocumentStatus, error: String?, chunkCount: Int, attempts: Int, pinned: Bool = false,
                createdAt: Date, updatedAt: Date) {
        self.id = id
        self.baseID = baseID
        self.name = name
        self.kind = kind
        self.byteCount = byteCount
        self.sha256 = sha256
        self.status = status
        self.error = error
        self.chunkCount = chunkCount
        self.attempts = attempts
        self.pinned = pinned
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A document as uploaded.
public struct NewDocument: Sendable {
    public var name: String
    public var content: [UInt8]
    public var sha256: String

    public init(name: String, content: [UInt8], sha256: String) {
        self.name = name
        self.content = content
        self.sha256 = sha256
    }
}

/// A document a worker has claimed, with what it needs to ingest it.
public struct IngestionClaim: Sendable {
    public var document: KnowledgeDocument
    public var content: [UInt8]
    public var embeddingModel: String?
    /// The dimension the base's vectors already have, if any.
    public var embeddingDimensions: Int?

    public init(document: KnowledgeDocument, content: [UInt8], embeddingModel: String?, embeddingDimensions: Int?) {
        self.document = document
        self.content = content
        self.embeddingModel = embeddingModel
        self.embeddingDimensions = embeddingDimensions
    }
}

/// A passage ready to be stored: the chunk and, when the base embeds, its vector.
public struct ChunkRecord: Sendable {
    public var ordinal: Int
    public var chunk: Chunk
    public var vector: StoredVector?

    public init(ordinal: Int, chunk: Chunk, vector: StoredVector?) {
        self.ordinal = ordinal
        self.chunk = chunk
        self.vector = vector
    }
}

/// A vector as the database keeps it: normalised, one signed byte per dimension, and the scale that turns the
/// bytes back into components.
public struct StoredVector: Sendable, Equatable {
    public var codes: [Int8]
    public var scale: Float

    public init(codes: [Int8], scale: Float) {
        self.codes = codes
        self.scale = scale
    }

    /// `vector` normalised and quantised.
    public init(_ vector: [Float]) {
        let (codes, scale) = QuantizedVectors.quantize(vector, dimension: vector.count, stride: vector.count)
        self.init(codes: codes, scale: scale)
    }

    /// The components it stands for.
    public var components: [Float] { codes.map { Float($0) * scale } }

    /// The bytes of the codes, for a BLOB or bytea column.
    public var bytes: [UInt8] { codes.map { UInt8(bitPattern: $0) } }

    public init(bytes: [UInt8], scale: Float) {
        self.init(codes: bytes.map { Int8(bitPattern: $0) }, scale: scale)
    }
}
