import CoreMetrics
import Crypto
import Foundation
import NIOCore
import ParleyCore
import ParleyGateway
import ParleyProviders
import ParleyRetrieval

/// Embeds texts through the router (any upstream's `/v1/embeddings`), with each text's vector cached on its own:
/// a passage embedded once is not embedded again, whatever batch it comes in, and a question asked again costs no
/// upstream call. The texts a batch misses go upstream in one call.
///
/// The cache is the response cache (memory or Redis), under a namespace of its own shared by all users: a vector
/// depends only on the model and the text, and reveals nothing beyond the text its requester already has.
struct RouterEmbedder: Embedder {
    let gateway: GatewayCache
    /// Texts per upstream call.
    var batchSize = 64
    /// Calls of this many texts or fewer are questions being answered.
    static let questionTexts = 4

    static let lookups = MetricFamily(counter: MetricName.embeddingCacheLookups, labels: ["result"])

    func embed(_ texts: [String], model: String) async throws -> [[Float]] {
        var vectors = [[Float]?](repeating: nil, count: texts.count)
        let keys = texts.map { Self.key(model: model, text: $0) }
        if let cache = gateway.cache {
            for (index, key) in keys.enumerated() {
                if let entry = try? await cache.get(key), entry.form == .body, let bytes = entry.parts.first {
                    vectors[index] = Self.floats(bytes)
                }
            }
        }
        let missing = vectors.indices.filter { vectors[$0] == nil }
        Self.lookups("hit").increment(by: texts.count - missing.count)
        Self.lookups("miss").increment(by: missing.count)
        for batch in missing.chunked(into: batchSize) {
            let embedded = try await call(batch.map { texts[$0] }, model: model)
            for (index, vector) in zip(batch, embedded) {
                vectors[index] = vector
                if let cache = gateway.cache {
                    let entry = CachedResponse(form: .body, parts: [Self.bytes(vector)], deployment: "", model: model)
                    try? await cache.put(keys[index], entry, ttl: .seconds(30 * 86_400))
                }
            }
        }
        return vectors.map { $0 ?? [] }
    }

    private func call(_ texts: [String], model: String) async throws -> [[Float]] {
        // A question (a few texts) is embedded while its chat turn waits, under the turn's generation lease: it
        // gets 10 s, retries included, and its small bodies are written and read here. Ingestion's batches get the
        // upstream's whole timeout, and their bodies (64 passages out, 64 vectors of hundreds of numbers back) are
        // written and read on ingestion's own low-priority threads, not on the pool that runs chat turns.
        let question = texts.count <= Self.questionTexts
        let served: Served<UpstreamReply>
        do {
            let request = EmbeddingsRequest(model: model, input: texts)
            let body = question ? try Self.body(request) : try await OffPool.run(.background) { try Self.body(request) }
            let limits = question ? gateway.router.limits(timeout: .seconds(10)) : gateway.router.limits()
            served = try await gateway.embeddings(body, plan: .bypass, limits: limits)
        } catch let failure as RoutingFailure {
            throw EmbeddingFailure(failure.description, mayPass: Self.mayPass(failure))
        }
        let reply = served.value.body
        let vectors = question ? Self.vectors(reply, count: texts.count)
            : try await OffPool.run(.background) { Self.vectors(reply, count: texts.count) }
        guard let vectors else {
            throw EmbeddingFailure("the embedding model's answer is not a list of \(texts.count) embeddings", mayPass: false)
        }
        return vectors
    }

    private static func body(_ request: EmbeddingsRequest) throws -> EmbeddingsBody {
        try EmbeddingsBody(parsing: Array(try JSONEncoder().encode(request)))
    }

    /// The vectors of an `/v1/embeddings` answer in the order of the texts, or nil when it is not `count` of them.
    private static func vectors(_ reply: ByteBuffer, count: Int) -> [[Float]]? {
        guard let decoded = try? JSONDecoder().decode(EmbeddingsReply.self, from: Data(reply.readableBytesView)),
              decoded.data.count == count else { return nil }
        return decoded.data.sorted { $0.index < $1.index }.map(\.embedding)
    }

    private static func mayPass(_ failure: RoutingFailure) -> Bool {
        switch failure.reason {
        case .unknownModel: return false
        case .upstream(let error):
            if case ProviderError.http(let status, _, _) = error { return status == 429 || status >= 500 }
            return true
        case .deadline, .noDeployment: return true
        }
    }

    static func key(model: String, text: String) -> String {
        let digest = Hex.encode(SHA256.hash(data: Array("\(model)\u{0}\(text)".utf8)))
        return "knowledge-embedding:" + digest
    }

    static func bytes(_ vector: [Float]) -> [UInt8] {
        vector.withUnsafeBufferPointer { Array(UnsafeRawBufferPointer($0)) }
    }

    static func floats(_ bytes: [UInt8]) -> [Float] {
        bytes.withUnsafeBytes { raw in
            (0..<bytes.count / 4).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
        }
    }

    private struct EmbeddingsRequest: Encodable {
        var model: String
        var input: [String]
    }

    private struct EmbeddingsReply: Decodable {
        struct Item: Decodable {
            var index: Int
            var embedding: [Float]
        }
        var data: [Item]
    }
}
