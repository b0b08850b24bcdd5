import Foundation
import Logging
import ParleyProviders
import ParleyRetrieval
import ParleyStore

extension KnowledgeService {
    /// The knowledge-base service of a server and the ingestion it runs: embeddings through the router (and the
    /// response cache), vectors searched in memory, results reranked when a rerank model is set, documents read by
    /// `config.ingestionWorkers` workers, vector indexes kept up to `config.vectorMemory` bytes.
    /// A document is held under the same lease as an answer being generated (`generation_lease`).
    static func assembled(config: ParleyConfig.KnowledgeSettings, lease: Duration, store: GuardedConversationStore,
                          gateway: GatewayCache, logger: Logger) -> (KnowledgeService, IngestionService) {
        let embedder = RouterEmbedder(gateway: gateway)
        var options = IngestionService.Options()
        options.workers = config.ingestionWorkers
        options.lease = lease
        let ingestion = IngestionService(store: store, embedder: embedder, holder: "replica-\(UUID().uuidString.lowercased())",
                                         options: options, logger: logger)
        let reranker = config.rerankModel.map { RouterReranker(router: gateway.router, model: $0) }
        var vectorOptions = VectorIndexCache.Options()
        vectorOptions.memoryCap = config.vectorMemory
        let retriever = HybridRetriever(store: store, embedder: embedder, indexes: VectorIndexCache(store: store, options: vectorOptions),
                                        reranker: reranker, logger: logger)
        let service = KnowledgeService(store: store, limits: config.limits, retriever: retriever, ingestion: ingestion,
                                       defaultEmbeddingModel: config.embeddingModel)
        return (service, ingestion)
    }
}
