import Foundation
import Logging
import ParleyCore

/// Re-embedding: when a knowledge base's embedding model changes, one worker per replica embeds its passages
/// again with the new model, in batches, under a lease (so a replica that dies hands the work over). The vectors
/// of the current model keep answering searches until every passage has a new one; then the store swaps them
/// in one step. A passage added meanwhile (a document ingested with the current model) is embedded too before
/// the swap.
extension IngestionService {
    func reembedWork() async {
        await claimLoop(wakeUps: reembeddingWakeUps, looking: "knowledge bases to embed again", claim: {
            try await self.store.claimReembedding(holder: self.holder, lease: self.options.lease)
        }, handle: reembed)
    }

    /// Embeds one base's passages again, stopping when the lease is lost.
    func reembed(_ claim: ReembeddingClaim) async {
        let base = claim.baseID.lowercased
        let outcome = await underLease({ try await self.reembedPassages(claim) }) {
            try await self.store.renewReembeddingLease(baseID: claim.baseID, holder: self.holder, lease: $0)
        }
        switch outcome {
        case .success(true):
            logger.info("knowledge base embedded with its new model", metadata: ["base": "\(base)", "model": "\(claim.model)"])
        case .success(false):
            logger.info("re-embedding stopped: replaced, stopped or taken over", metadata: ["base": "\(base)"])
        case .failure(let error) where error is CancellationError || Task.isCancelled:
            logger.info("re-embedding interrupted", metadata: ["base": "\(base)"])
        case .failure(let error):
            let (reason, retryAt) = retry(after: error, attempts: claim.attempts)
            logger.warning("re-embedding failed", metadata: [
                "base": "\(base)", "model": "\(claim.model)", "error": "\(reason)", "attempt": "\(claim.attempts)",
                "retry": "\(retryAt.map { "at \($0)" } ?? "no")",
            ])
            do {
                try await store.failReembedding(baseID: claim.baseID, holder: holder, error: reason, retryAt: retryAt)
            } catch {
                logger.warning("could not record a failed re-embedding", metadata: ["error": "\(error)"])
            }
        }
    }

    /// True when the new vectors replaced the old; false when the lease was lost.
    private func reembedPassages(_ claim: ReembeddingClaim) async throws -> Bool {
        guard let embedder else { throw EmbeddingFailure("no embedder is configured", mayPass: false) }
        var dimensions: Int?
        while true {
            try Task.checkCancellation()
            guard let batch = try await store.passagesToReembed(baseID: claim.baseID, holder: holder,
                                                                limit: max(1, options.batchSize)) else { return false }
            if batch.isEmpty {
                switch try await store.finishReembedding(baseID: claim.baseID, holder: holder, dimensions: dimensions) {
                case .finished: return true
                case .lost: return false
                case .passagesLeft: continue
                }
            }
            let vectors = try await embedder.embed(batch.map { Self.embeddingText($0.text, headings: $0.headingPath) },
                                                   model: claim.model)
            guard vectors.count == batch.count, let width = vectors.first?.count, width > 0,
                  vectors.allSatisfy({ $0.count == width }) else {
                throw EmbeddingFailure("the embedding model returned \(vectors.count) vectors for \(batch.count) passages",
                                       mayPass: false)
            }
            if let dimensions, dimensions != width {
                throw EmbeddingFailure("the embedding model returned \(width) dimensions after \(dimensions)", mayPass: false)
            }
            dimensions = width
            let stored = zip(batch, vectors).map { PassageVector(id: $0.id, vector: StoredVector($1)) }
            guard try await store.storeReembedded(stored, baseID: claim.baseID, holder: holder) else { return false }
        }
    }
}
