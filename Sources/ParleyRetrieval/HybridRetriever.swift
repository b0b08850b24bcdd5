import Foundation
import Logging
import ParleyCore

/// A passage found for a question, with how each search ranked it (for debugging retrieval).
public struct RetrievedPassage: Sendable, Equatable {
    public var passage: StoredPassage
    /// The fused score: higher is better.
    public var score: Double
    /// 1-based rank in the full-text results, if it was there.
    public var textRank: Int?
    /// 1-based rank in the vector results and its cosine similarity, if it was there.
    public var vectorRank: Int?
    public var similarity: Float?
    /// The reranker's score, when one reordered the results.
    public var rerankScore: Double? = nil
}

/// What a retrieval found and how it searched.
public struct Retrieval: Sendable {
    public enum Mode: String, Sendable {
        /// Full-text and vector search, fused.
        case hybrid
        /// Full-text only: no base embeds, or the embedding model failed (``note`` says so).
        case fullText = "full_text"
    }
    public var passages: [RetrievedPassage]
    public var mode: Mode
    /// Why a base that embeds was searched by text only, or why the results were not reranked.
    public var note: String?
    /// The model that reordered the results, if one did.
    public var rerankedBy: String? = nil
}

/// Hybrid retrieval: full-text search in the database (ranked by BM25 or `ts_rank_cd`) and vector search in memory,
/// fused by reciprocal rank, then — with a ``Reranker`` — the best fused candidates reordered by a cross-encoder.
/// The access rule is applied by the database in both searches: the full-text query filters by it, and vector hits
/// are read back through it. A reranker that fails leaves the fused order, with a note.
public final class HybridRetriever: Sendable {
    let store: any KnowledgeStore
    let embedder: (any Embedder)?
    public let indexes: VectorIndexCache
    let reranker: (any Reranker)?
    /// Candidates taken from each search before fusion.
    let candidates: Int
    /// Fused passages the reranker scores (at least the number asked for).
    static let rerankCandidates = 20
    let logger: Logger

    public init(store: any KnowledgeStore, embedder: (any Embedder)?, indexes: VectorIndexCache, reranker: (any Reranker)? = nil,
                candidates: Int = 50, logger: Logger) {
        self.store = store
        self.embedder = embedder
        self.indexes = indexes
        self.reranker = reranker
        self.candidates = candidates
        self.logger = logger
    }

    /// The best `limit` passages of `bases` (which the caller has read as `reader`) for `question`, reordered by the
    /// reranker when one is configured and `rerank` is true.
    public func retrieve(_ question: String, bases: [KnowledgeBase], reader: UserID, limit: Int,
                         rerank: Bool = true) async throws -> Retrieval {
        let reranker = rerank ? reranker : nil
        let ids = bases.map(\.id)
        let terms = QueryTerms.of(question)
        async let textHits = store.searchPassages(terms: terms, baseIDs: ids, reader: reader, limit: candidates)
        let (vectorHits, note) = await vectorSearch(question, bases: bases)
        let text = try await textHits
        let taken = reranker == nil ? limit : max(limit, Self.rerankCandidates)
        let fused = RankFusion.reciprocal([text.map(\.passage.id), vectorHits.map(\.id)]).prefix(taken)
        var known = Dictionary(text.map { ($0.passage.id, $0.passage) }, uniquingKeysWith: { first, _ in first })
        let missing = fused.map(\.id).filter { known[$0] == nil }
        for passage in try await store.passages(ids: missing, baseIDs: ids, reader: reader) { known[passage.id] = passage }
        let textRanks = Dictionary(text.enumerated().map { ($1.passage.id, $0 + 1) }, uniquingKeysWith: { first, _ in first })
        let vectorRanks = Dictionary(vectorHits.enumerated().map { ($1.id, ($0 + 1, $1.score)) }, uniquingKeysWith: { first, _ in first })
        let passages = fused.compactMap { hit -> RetrievedPassage? in
            // A vector hit the database did not return is deleted, not ready, or not readable: dropped.
            guard let passage = known[hit.id] else { return nil }
            return RetrievedPassage(passage: passage, score: hit.score, textRank: textRanks[hit.id],
                                    vectorRank: vectorRanks[hit.id]?.0, similarity: vectorRanks[hit.id]?.1)
        }
        let embeds = embedder != nil && bases.contains { $0.embeddingModel != nil && $0.embeddingDimensions != nil }
        var retrieval = Retrieval(passages: passages, mode: embeds && note == nil ? .hybrid : .fullText, note: note)
        await Self.rerank(&retrieval, by: reranker, question: question, limit: limit, logger: logger)
        return retrieval
    }

    /// Reorders the passages by the reranker's scores and keeps `limit`; on failure keeps the fused order and says so.
    private static func rerank(_ retrieval: inout Retrieval, by reranker: (any Reranker)?, question: String, limit: Int,
                               logger: Logger) async {
        defer { retrieval.passages = Array(retrieval.passages.prefix(limit)) }
        guard let reranker, retrieval.passages.count > 1 else { return }
        do {
            let scores = try await reranker.scores(of: retrieval.passages.map(\.passage.text), for: question)
            guard scores.count == retrieval.passages.count, scores.allSatisfy(\.isFinite) else {
                throw EmbeddingFailure("\(scores.count) scores for \(retrieval.passages.count) passages", mayPass: false)
            }
            for index in retrieval.passages.indices { retrieval.passages[index].rerankScore = scores[index] }
            // Stable: equal scores keep the fused order.
            retrieval.passages = retrieval.passages.enumerated()
                .sorted { ($0.element.rerankScore!, -$0.offset) > ($1.element.rerankScore!, -$1.offset) }.map(\.element)
            retrieval.rerankedBy = reranker.model
        } catch {
            logger.warning("reranking failed; keeping the fused order", metadata: ["model": "\(reranker.model)", "error": "\(error)"])
            let failed = "reranking with \(reranker.model) failed (\(error))"
            retrieval.note = retrieval.note.map { $0 + "; " + failed } ?? failed
        }
    }

    /// Vector hits over the bases that embed, best first; a failure to embed the question is a note, not an error.
    private func vectorSearch(_ question: String, bases: [KnowledgeBase]) async -> ([VectorHit], String?) {
        guard let embedder else { return ([], nil) }
        let embedding = bases.filter { $0.embeddingModel != nil && $0.embeddingDimensions != nil }
        var hits: [VectorHit] = []
        var failures: [String] = []
        for (model, group) in Dictionary(grouping: embedding, by: { $0.embeddingModel! }) {
            do {
                guard let query = try await embedder.embed([question], model: model).first else { continue }
                for base in group { hits += try await indexes.search(base, query: query, k: candidates) }
            } catch {
                logger.warning("vector search failed; answering from full-text search", metadata: ["model": "\(model)", "error": "\(error)"])
                failures.append("\(model): \(error)")
            }
        }
        hits.sort(by: VectorHit.ranked)
        return (Array(hits.prefix(candidates)), failures.isEmpty ? nil : "vector search failed (\(failures.joined(separator: "; ")))")
    }
}
