import Logging
import ParleyEmbedding
import ParleyProviders

/// The models Parley runs itself, for the router: the built-in embedding model when `embedding_model` names a
/// folder. The folder is checked now (its configuration and the weights' header; the weights are read by the
/// first request), so a wrong path or an unsupported model stops start-up with the reason.
func localModels(_ config: ParleyConfig, logger: Logger) throws -> [(UpstreamConfig, any ModelBackend)] {
    guard let folder = config.embeddingModelFolder else { return [] }
    let encoder: SentenceEncoder
    do {
        encoder = try SentenceEncoder(path: folder, threads: config.embeddingThreads)
    } catch {
        throw ConfigError("embedding_model: \(error)")
    }
    let provider = LocalEmbeddingProvider(encoder: encoder)
    logger.info("built-in embedding model ready to load on first use", metadata: [
        "model": "\(provider.modelName)", "dimensions": "\(encoder.dimensions)", "pooling": "\(encoder.folder.pooling.rawValue)",
        "max_tokens": "\(encoder.folder.maxTokens)", "threads": "\(config.embeddingThreads)",
    ])
    return [provider.deployment]
}
