import Foundation
import Logging
import ParleyCore
import ParleyGateway
import ParleyProviders
import ParleyRedis
import ParleyRetrieval
import ParleyStore
import Prometheus

/// What the route handlers use, built once per server.
struct ParleyServices: Sendable {
    let config: ParleyConfig
    let store: GuardedConversationStore
    let models: any ModelDirectory
    /// The provider router behind `/v1` (and behind `models` for the chat API).
    let router: ModelRouter
    /// The response cache in front of the router.
    let gateway: GatewayCache
    /// Rate limits, token budgets and usage records of `/v1` and of the chat API's answers.
    let accounting: CallAccounting
    /// Redis, when configured: its outage tracker answers the readiness check.
    let redis: SharedBackend?
    let hub: GenerationHub
    let chat: ChatService
    let feed: GenerationFeed
    /// Sessions, users' keys and the service keys.
    let authenticator: Authenticator
    let loginThrottle: LoginThrottle
    /// Anonymous visitors' chats and questions per client address.
    let visitorLimit: RateBucketSource
    /// Single sign-on, when configured.
    let oidc: OIDCProvider?
    /// The replica's graceful shutdown, as requests see it.
    let drain: Drain
    /// What `/metrics` shows, when the metrics are on (``ParleyMetrics/bootstrap()``).
    let metrics: PrometheusCollectorRegistry?
    /// Knowledge bases: documents, ingestion, search.
    let knowledge: KnowledgeService
}

/// The cache and limiter backends chosen by the configuration, and Redis when it is used.
struct SharedBackend: Sendable {
    let client: RedisClient
    let tracker: OutageTracker

    /// Builds the configured cache (nil when off) and limiter, with Redis ones wrapped for failover.
    static func backends(_ config: ParleyConfig, logger: Logger) throws
        -> (cache: (any ResponseCache)?, limiter: any RateLimiter, shared: SharedBackend?)
    {
        let memoryCache = MemoryResponseCache(maxEntries: config.cache.maxEntries, maxBytes: config.cache.maxBytes,
                                              maxEntryBytes: config.cache.maxEntryBytes)
        guard let url = config.redisURL else {
            return (config.cache.backend == .off ? nil : memoryCache, MemoryRateLimiter(), nil)
        }
        let client = RedisClient(try RedisConfiguration(url: url))
        let tracker = OutageTracker(mode: config.redisFailure, logger: logger)
        let limiter = FailoverRateLimiter(primary: RedisRateLimiter(client: client), fallback: MemoryRateLimiter(), tracker: tracker)
        let cache: (any ResponseCache)?
        switch config.cache.backend {
        case .off: cache = nil
        case .memory: cache = memoryCache
        case .redis:
            cache = FailoverResponseCache(primary: RedisResponseCache(client: client, maxEntryBytes: config.cache.maxEntryBytes),
                                          fallback: memoryCache, tracker: tracker)
        }
        return (cache, limiter, SharedBackend(client: client, tracker: tracker))
    }
}
