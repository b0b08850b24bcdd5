import Foundation
import NIOCore
import ParleyProviders
import ParleyRetrieval

/// Reranks through the router: an upstream's `/rerank` (the shape Cohere, Jina and vLLM share), with the
/// router's retries, fallbacks and breakers. A question waits for it, so it gets 10 s, retries included.
struct RouterReranker: Reranker {
    let router: ModelRouter
    let model: String

    func scores(of texts: [String], for query: String) async throws -> [Double] {
        let routed = try await router.routeRerank(RerankRequest(query: query, documents: texts), model: model,
                                                  limits: router.limits(timeout: .seconds(10)))
        guard let reply = try? JSONDecoder().decode(Reply.self, from: Data(routed.value.body.readableBytesView)) else {
            throw EmbeddingFailure("the rerank model's answer has no 'results'", mayPass: false)
        }
        var scores = [Double?](repeating: nil, count: texts.count)
        for result in reply.results where scores.indices.contains(result.index) { scores[result.index] = result.relevanceScore }
        // A document the model left out ranks last.
        return scores.map { $0 ?? -Double.greatestFiniteMagnitude }
    }

    private struct Reply: Decodable {
        struct Result: Decodable {
            var index: Int
            var relevanceScore: Double
            enum CodingKeys: String, CodingKey {
                case index
                case relevanceScore = "relevance_score"
            }
        }
        var results: [Result]
    }
}
