import Foundation
import ParleyCore
import ParleyRetrieval

/// Knowledge-base calls under the same deadline and outage rule as conversation calls.
extension GuardedConversationStore: KnowledgeStore {
    private func guardedKnowledge<T: Sendable>(operation: StaticString = #function,
                                               _ call: @escaping @Sendable (any KnowledgeStore) async throws -> T) async throws -> T {
        guard let knowledge = base as? any KnowledgeStore else {
            throw ParleyError.unavailable("this database keeps no knowledge bases")
        }
        return try await guarded(operation: operation) { _ in try await call(knowledge) }
    }

    public func createKnowledgeBase(_ new: NewKnowledgeBase, owner: UserID, limits: KnowledgeLimits) async throws -> KnowledgeBase {
        try await guardedKnowledge { try await $0.createKnowledgeBase(new, owner: owner, limits: limits) }
    }
    public func knowledgeBases(reader: UserID) async throws -> [KnowledgeBase] {
        try await guardedKnowledge { try await $0.knowledgeBases(reader: reader) }
    }
    public func knowledgeBase(id: UUID, reader: UserID) async throws -> KnowledgeBase {
        try await guardedKnowledge { try await $0.knowledgeBase(id: id, reader: reader) }
    }
    public func updateKnowledgeBase(id: UUID, owner: UserID, patch: KnowledgeBasePatch) async throws -> KnowledgeBase {
        try await guardedKnowledge { try await $0.updateKnowledgeBase(id: id, owner: owner, patch: patch) }
    }
    public func deleteKnowledgeBase(id: UUID, owner: UserID) async throws {
        try await guardedKnowledge { try await $0.deleteKnowledgeBase(id: id, owner: owner) }
    }

    public func addDocument(_ new: NewDocument, baseID: UUID, owner: UserID, limits: KnowledgeLimits) async throws -> AddedDocument {
        try await guardedKnowledge { try await $0.addDocument(new, baseID: baseID, owner: owner, limits: limits) }
    }
    public func documents(baseID: UUID, reader: UserID) async throws -> [KnowledgeDocument] {
        try await guardedKnowledge { try await $0.documents(baseID: baseID, reader: reader) }
    }
    public func document(id: UUID, baseID: UUID, reader: UserID) async throws -> KnowledgeDocument {
        try await guardedKnowledge { try await $0.document(id: id, baseID: baseID, reader: reader) }
    }
    public func documentContent(id: UUID, baseID: UUID, reader: UserID) async throws -> [UInt8] {
        try await guardedKnowledge { try await $0.documentContent(id: id, baseID: baseID, reader: reader) }
    }
    public func chunks(documentID: UUID, baseID: UUID, reader: UserID) async throws -> [StoredPassage] {
        try await guardedKnowledge { try await $0.chunks(documentID: documentID, baseID: baseID, reader: reader) }
    }
    public func pinDocument(id: UUID, baseID: UUID, owner: UserID, pinned: Bool, maxPinned: Int) async throws -> KnowledgeDocument {
        try await guardedKnowledge { try await $0.pinDocument(id: id, baseID: baseID, owner: owner, pinned: pinned, maxPinned: maxPinned) }
    }
    public func pinnedPassages(baseIDs: [UUID], reader: UserID, limit: Int) async throws -> [StoredPassage] {
        try await guardedKnowledge { try await $0.pinnedPassages(baseIDs: baseIDs, reader: reader, limit: limit) }
    }
    public func deleteDocument(id: UUID, baseID: UUID, owner: UserID) async throws {
        try await guardedKnowledge { try await $0.deleteDocument(id: id, baseID: baseID, owner: owner) }
    }
    public func cancelDocument(id: UUID, baseID: UUID, owner: UserID) async throws -> KnowledgeDocument {
        try await guardedKnowledge { try await $0.cancelDocument(id: id, baseID: baseID, owner: owner) }
    }
    public func retryDocument(id: UUID, baseID: UUID, owner: UserID) async throws -> KnowledgeDocument {
        try await guardedKnowledge { try await $0.retryDocument(id: id, baseID: baseID, owner: owner) }
    }

    public func claimDocument(holder: String, lease: Duration) async throws -> IngestionClaim? {
        try await guardedKnowledge { try await $0.claimDocument(holder: holder, lease: lease) }
    }
    public func renewDocumentLease(id: UUID, holder: String, lease: Duration) async throws -> Bool {
        try await guardedKnowledge { try await $0.renewDocumentLease(id: id, holder: holder, lease: lease) }
    }
    public func storeChunks(_ chunks: [ChunkRecord], documentID: UUID, holder: String, embeddingModel: String?) async throws
        -> Bool
    {
        try await guardedKnowledge {
            try await $0.storeChunks(chunks, documentID: documentID, holder: holder, embeddingModel: embeddingModel)
        }
    }
    public func finishDocument(id: UUID, holder: String, kind: String, embeddingDimensions: Int?) async throws -> Bool {
        try await guardedKnowledge {
            try await $0.finishDocument(id: id, holder: holder, kind: kind, embeddingDimensions: embeddingDimensions)
        }
    }
    public func failDocument(id: UUID, holder: String, error: String, retryAt: Date?) async throws {
        try await guardedKnowledge { try await $0.failDocument(id: id, holder: holder, error: error, retryAt: retryAt) }
    }

    public func changeEmbeddingModel(baseID: UUID, owner: UserID, model: String?) async throws -> KnowledgeBase {
        try await guardedKnowledge { try await $0.changeEmbeddingModel(baseID: baseID, owner: owner, model: model) }
    }
    public func claimReembedding(holder: String, lease: Duration) async throws -> ReembeddingClaim? {
        try await guardedKnowledge { try await $0.claimReembedding(holder: holder, lease: lease) }
    }
    public func renewReembeddingLease(baseID: UUID, holder: String, lease: Duration) async throws -> Bool {
        try await guardedKnowledge { try await $0.renewReembeddingLease(baseID: baseID, holder: holder, lease: lease) }
    }
    public func passagesToReembed(baseID: UUID, holder: String, limit: Int) async throws -> [PassageText]? {
        try await guardedKnowledge { try await $0.passagesToReembed(baseID: baseID, holder: holder, limit: limit) }
    }
    public func storeReembedded(_ vectors: [PassageVector], baseID: UUID, holder: String) async throws -> Bool {
        try await guardedKnowledge { try await $0.storeReembedded(vectors, baseID: baseID, holder: holder) }
    }
    public func finishReembedding(baseID: UUID, holder: String, dimensions: Int?) async throws -> ReembeddingOutcome {
        try await guardedKnowledge { try await $0.finishReembedding(baseID: baseID, holder: holder, dimensions: dimensions) }
    }
    public func failReembedding(baseID: UUID, holder: String, error: String, retryAt: Date?) async throws {
        try await guardedKnowledge { try await $0.failReembedding(baseID: baseID, holder: holder, error: error, retryAt: retryAt) }
    }

    public func searchPassages(terms: [String], baseIDs: [UUID], reader: UserID, limit: Int) async throws -> [RankedPassage] {
        try await guardedKnowledge { try await $0.searchPassages(terms: terms, baseIDs: baseIDs, reader: reader, limit: limit) }
    }
    public func passageVectors(baseID: UUID, afterID: Int64, limit: Int) async throws -> [PassageVector] {
        try await guardedKnowledge { try await $0.passageVectors(baseID: baseID, afterID: afterID, limit: limit) }
    }
    public func passages(ids: [Int64], baseIDs: [UUID], reader: UserID) async throws -> [StoredPassage] {
        try await guardedKnowledge { try await $0.passages(ids: ids, baseIDs: baseIDs, reader: reader) }
    }
}
