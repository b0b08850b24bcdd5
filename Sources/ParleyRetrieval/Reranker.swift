/// Scores passages for a question with a cross-encoder — a model that reads the question and the passage together,
/// and so ranks better than either search alone — served by an upstream's `/rerank`. Optional: retrieval without
/// one ranks by fusion alone.
public protocol Reranker: Sendable {
    /// The model it asks, reported with the results.
    var model: String { get }
    /// One relevance score per text, in order; higher is more relevant.
    func scores(of texts: [String], for query: String) async throws -> [Double]
}
