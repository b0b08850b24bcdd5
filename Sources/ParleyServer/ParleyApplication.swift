import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ParleyAccounts
import ParleyCore
import ParleyGateway
import ParleyProviders
import ParleyRedis
import ParleyRetrieval
import ParleyStore
import Prometheus
import ServiceLifecycle
import Synchronization

/// The whole Parley server: the HTTP application with its routes, and the services it runs — the database's
/// background work, the shared upstream HTTP client, the generation hub. Built by ``buildApplication(config:logger:onServerRunning:)``
/// for `parley serve` and for the tests (HummingbirdTesting's router mode runs ``services`` beside the router).
///
/// ``run()`` orders graceful shutdown: running generations get ``ParleyConfig/shutdownGrace`` to finish first,
/// then the HTTP server stops accepting and closes, then the upstream client, and the database last.
public struct ParleyApplication: ApplicationProtocol {
    public typealias Responder = RouterResponder<ParleyRequestContext>

    public let config: ParleyConfig
    public let store: GuardedConversationStore
    public let hub: GenerationHub
    /// Every endpoint, as registered.
    public let routes: [Route]
    public let responder: Responder
    public let logger: Logger
    let http: Application<Responder>
    let httpClient: HTTPClient
    let database: DatabaseService
    let usage: UsageRecorder
    let drain: Drain
    let ingestion: IngestionService

    public var server: HTTPServerBuilder { Self.serverBuilder }
    public var configuration: ApplicationConfiguration { http.configuration }
    public func onServerRunning(_ channel: any Channel) async { await http.onServerRunning(channel) }

    /// What runs beside the HTTP server, in start order.
    public var services: [any Service] { [database, usage, clientService, generations, ingestionService] }
    var ingestionService: IngestionRunner { IngestionRunner(ingestion: ingestion) }
    var clientService: HTTPClientService { HTTPClientService(client: httpClient) }
    var generations: GenerationHubService { GenerationHubService(hub: hub, drain: drain, grace: config.shutdownGrace) }

    /// HTTP/1 with ``ConnectionGuard`` on every connection.
    static var serverBuilder: HTTPServerBuilder { .http1(configuration: .init(additionalChannelHandlers: [ConnectionGuard()])) }

    public func run() async throws {
        // Graceful shutdown runs in reverse order: generations drain first, then the HTTP server closes,
        // then the upstream client, then the usage still counted is written, and the database closes last.
        let group = ServiceGroup(configuration: .init(
            services: [database, usage, clientService, ingestionService, http, generations],
            logger: logger))
        defer { database.stopPool() }
        try await group.run()
    }
}

/// Opens the database (waiting for it up to ``ParleyConfig/databaseStartupWait``), migrates it, and
/// assembles the routes. `metrics`, from ``ParleyMetrics/bootstrap()``, adds `/metrics`. `onServerRunning`
/// receives the bound port (useful with port 0).
public func buildApplication(config: ParleyConfig, logger: Logger, metrics: PrometheusCollectorRegistry? = nil,
                             onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws
    -> ParleyApplication
{
    // Read before anything is opened, so a bad folder fails start-up with nothing to close.
    let webAssets = try config.webDirectory.map(WebAssets.load(directory:)) ?? .embedded
    let local = try localModels(config, logger: logger)
    let board = NoticeBoard()
    let base: any ConversationStore
    var bus: any EventBus
    var pool: PostgresConversationStore?
    var listener: (any EventListener)?
    switch try config.database() {
    case .sqlite(let path):
        base = try SQLiteConversationStore(path: path)
        bus = LocalEventBus(board: board)
    case .postgres(let url):
        let postgres = PostgresConversationStore(configuration: try PostgresConversationStore.configuration(url: url),
                                                 logger: logger)
        let postgresBus = try PostgresEventBus(store: postgres, url: url, board: board, logger: logger)
        (base, bus, pool, listener) = (postgres, postgresBus, postgres, postgresBus)
    }
    let (cache, rateLimiter, shared) = try SharedBackend.backends(config, logger: logger)
    if let shared, pool != nil {
        // Replicas on one PostgreSQL database hear each other through Redis when it is there: lighter than
        // PostgreSQL's NOTIFY. (A SQLite server is a single replica and keeps its in-process bus.)
        let redisBus = RedisEventBus(client: shared.client, board: board, logger: logger)
        (bus, listener) = (redisBus, redisBus)
    }
    let store = GuardedConversationStore(base, callTimeout: config.databaseTimeout, logger: logger)
    let database = DatabaseService(store: store, pool: pool, listener: listener, redis: shared?.client,
                                   sessionIdle: config.accounts.sessionIdle, auditRetention: config.auditRetention,
                                   usageRetentionDays: config.usageRetentionDays)
    await database.startPool()
    do {
        try await ParleyApplication.migrateWhenReachable(store.base, wait: config.databaseStartupWait, logger: logger)
    } catch {
        database.stopPool()
        throw error
    }

    let httpClient = OpenAICompatibleProvider.makeHTTPClient(timeouts: config.timeouts)
    let models = ModelRouter(upstreams: config.upstreams, settings: config.router, defaultModel: config.defaultModel,
                             client: httpClient, timeouts: config.timeouts, local: local,
                             logger: logger)
    let hub = GenerationHub(
        store: store, bus: bus, board: board,
        settings: .init(flushInterval: config.flushInterval, eventBufferLimit: config.eventBufferLimit,
                        keepAliveInterval: config.keepAliveInterval, maxRunningJobs: config.maxGenerations,
                        leaseDuration: config.generationLease, leaseCheckInterval: config.generationLease / 3),
        logger: logger)
    let gateway = GatewayCache(cache: cache, router: models, defaultTTL: config.cache.ttl)
    let usage = UsageRecorder(store: store, logger: logger)
    let accounts = Accounts(store: store, hasher: PasswordHasher(parameters: config.passwordHash, maxConcurrent: config.passwordHashThreads),
                            settings: config.accounts, logger: logger, bus: bus)
    let authenticator = Authenticator(accounts: accounts, serviceKeys: ServiceKeys(config.apiKeys), proxies: config.trustedProxies)
    // A sign-in change on any replica (this one included: the bus delivers to its own board too).
    board.onAccountChange { [streams = authenticator.streams] user, ends in
        accounts.forgetCachedCredentials(of: user)
        let closed = streams.end(user, ends)
        if closed > 0 { logger.info("signed-out user's streams closed", metadata: ["user": "\(user)", "streams": "\(closed)"]) }
    }
    let drain = Drain()
    var chat = ChatService(store: store, models: gateway, hub: hub, limits: config.limits)
    chat.attachments = store
    chat.visionModels = config.visionModels
    switch config.titles {
    case .off: break
    case .conversationModel: chat.titler = ConversationTitler(store: store, models: gateway, model: nil)
    case .model(let name): chat.titler = ConversationTitler(store: store, models: gateway, model: name)
    }
    let (knowledge, ingestion) = KnowledgeService.assembled(config: config.knowledge, lease: config.generationLease, store: store, gateway: gateway, logger: logger)
    let services = ParleyServices(
        config: config, store: store, models: gateway, router: models, gateway: gateway,
        accounting: CallAccounting(limiter: RequestLimiter(limiter: rateLimiter, settings: config.rateLimits),
                                   budgets: TokenBudgets(limiter: rateLimiter, store: store, defaultBudget: config.defaultTokenBudget,
                                                         period: config.budgetPeriod),
                                   usage: usage, metrics: CallMetrics(modelLabel: models.metricLabel(model:)), drain: drain),
        redis: shared, hub: hub,
        chat: chat.grounded(by: KnowledgeGrounding(store: store, retriever: knowledge.retriever)),
        feed: GenerationFeed(hub: hub, store: store, pollInterval: max(config.flushInterval, .milliseconds(250))),
        authenticator: authenticator,
        loginThrottle: LoginThrottle(limiter: rateLimiter,
                                     limit: RateLimit(limit: config.loginFailuresPerWindow, period: config.loginWindow)),
        visitorLimit: RateBucketSource(limiter: rateLimiter, prefix: "visitor:", limit: .perMinute(config.visitorTurnsPerMinute)),
        oidc: config.oidc.map { OIDCProvider(settings: $0, client: httpClient, logger: logger) },
        drain: drain, metrics: metrics, knowledge: knowledge)

    let (router, routes) = ParleyRoutes.router(services: services, webAssets: webAssets)
    let http = Application(
        router: router,
        server: ParleyApplication.serverBuilder,
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "parley"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? config.port) },
        logger: logger)
    if config.upstreams.isEmpty {
        logger.notice("no upstream configured: only the built-in demo model answers (set OPENAI_BASE_URL to connect one)")
    }
    if config.apiKeys.isEmpty {
        logger.notice("no PARLEY_API_KEYS set: /v1 takes users' API keys, and clients on this machine without a key")
    }
    // Only a notice: a database too busy to answer it now must not fail the start (nor leave the HTTP client,
    // made above, to be released without being shut down).
    if (try? await accounts.needsSetUp()) == true {
        logger.notice("no accounts yet: open the web UI to create the administrator, or run `parley users create --admin EMAIL`")
    }
    for upstream in config.upstreams { logger.info("upstream \(upstream)") }
    if let shared {
        logger.info("Redis \(shared.client.configuration.redacted): cache \(config.cache.backend.rawValue), shared limits, fail-\(config.redisFailure.rawValue)")
    }
    return ParleyApplication(config: config, store: store, hub: hub, routes: routes, responder: http.responder,
                             logger: logger, http: http, httpClient: httpClient, database: database,
                             usage: usage, drain: drain, ingestion: ingestion)
}



extension ParleyApplication {
    /// Applies pending migrations to the configured database and closes it (`parley migrate`).
    public static func migrate(config: ParleyConfig, logger: Logger) async throws {
        switch try config.database() {
        case .sqlite(let path):
            try await migrateWhenReachable(try SQLiteConversationStore(path: path), wait: config.databaseStartupWait,
                                           logger: logger)
        case .postgres(let url):
            let postgres = PostgresConversationStore(configuration: try PostgresConversationStore.configuration(url: url),
                                                     logger: logger)
            let pool = await postgres.startPool()
            defer { pool.cancel() }
            try await migrateWhenReachable(postgres, wait: config.databaseStartupWait, logger: logger)
        }
    }

    /// Migrates, retrying while the database cannot be reached, for up to `wait`.
    static func migrateWhenReachable(_ store: any ConversationStore, wait: Duration, logger: Logger) async throws {
        let deadline = ContinuousClock.now + wait
        while true {
            do {
                try await withDeadline(max(.seconds(1), min(.seconds(30), deadline - .now))) { try await store.migrate() }
                return
            } catch let error as ParleyError {
                guard case .unavailable = error, ContinuousClock.now < deadline else { throw error }
                logger.warning("waiting for the database", metadata: ["error": "\(error)"])
            } catch is DeadlineExceeded {
                guard ContinuousClock.now < deadline else {
                    throw ParleyError.unavailable("the database could not be reached within \(wait)")
                }
                logger.warning("waiting for the database")
            }
            try await Task.sleep(for: .seconds(1))
        }
    }

}

/// Runs the hub's background work; at shutdown lets generations finish within the grace period, then stores the rest.
///
/// Graceful shutdown starts the ``Drain`` (readiness 503, new answers refused), gives running answers the grace
/// to finish, interrupts the rest, then ends the streams still open (their clients reattach elsewhere).
struct GenerationHubService: Service {
    let hub: GenerationHub
    let drain: Drain
    let grace: Duration

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            // Keep saving partial text while running answers use their grace period.
            group.addTask { await hub.runBackgroundWork() }
            let graceful = (try? await gracefulShutdown()) != nil
            drain.begin()
            // Answers generated here and streams served here (of answers generated elsewhere, and /v1) get the
            // grace; what still runs at its end is interrupted, what is still open told to reattach.
            let deadline = ContinuousClock.now + (graceful ? grace : .zero)
            while hub.runningCount + drain.openStreams > 0, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            await hub.shutdown(grace: max(.zero, deadline - .now))
            drain.closeStreams()
            group.cancelAll()
        }
        await hub.flush()
    }
}

/// A replica event bus's receiving side, run until cancelled.
protocol EventListener: Sendable {
    func run() async
}

extension PostgresEventBus: EventListener {}
extension RedisEventBus: EventListener {}

/// The database's background work: the PostgreSQL pool (started before migrations, stopped after everything
/// else), the health checks behind readiness and fail-fast 503s, and the replica event listener.
final class DatabaseService: Service, Sendable {
    let store: GuardedConversationStore
    let pool: PostgresConversationStore?
    let listener: (any EventListener)?
    let redis: RedisClient?
    /// Sessions unused this long are swept from the database.
    let sessionIdle: Duration
    /// Security events older than this are swept.
    let auditRetention: Duration
    /// Days of usage kept.
    let usageRetentionDays: Int
    private let poolTask = Mutex<Task<Void, Never>?>(nil)

    init(store: GuardedConversationStore, pool: PostgresConversationStore?, listener: (any EventListener)?, redis: RedisClient?,
         sessionIdle: Duration, auditRetention: Duration, usageRetentionDays: Int) {
        self.store = store
        self.pool = pool
        self.listener = listener
        self.redis = redis
        self.sessionIdle = sessionIdle
        self.auditRetention = auditRetention
        self.usageRetentionDays = usageRetentionDays
    }

    /// Deletes ended sessions (past their lifetime or idle limit), and security events and usage past their
    /// retention, every ten minutes, so the tables stay bounded however many sign-ins there were. Any replica
    /// may do it; a failed sweep waits for the next.
    func sweepSessions(every interval: Duration = .seconds(600)) async {
        while !Task.isCancelled {
            let now = Date()
            _ = try? await store.deleteExpiredSessions(now: now, idleSince: now.addingTimeInterval(-sessionIdle.secondsValue))
            _ = try? await store.deleteAuditEvents(before: now.addingTimeInterval(-auditRetention.secondsValue))
            _ = try? await store.deleteUsage(before: UsageRecord.day(of: now.addingTimeInterval(-Double(usageRetentionDays) * 86_400)))
            try? await Task.sleep(for: interval)
        }
    }

    func startPool() async {
        guard let pool else { return }
        let task = await pool.startPool()
        poolTask.withLock { $0 = task }
    }

    func stopPool() {
        poolTask.withLock { $0 }?.cancel()
        redis?.close()
    }

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.store.runHealthChecks() }
            group.addTask { await self.sweepSessions() }
            if let listener { group.addTask { await listener.run() } }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }
}

/// Ingests knowledge-base documents until shutdown; a document being read then is left to its lease, and taken
/// over by the next replica (or this one, started again).
struct IngestionRunner: Service {
    let ingestion: IngestionService

    func run() async throws {
        await cancelWhenGracefulShutdown { await ingestion.run() }
    }
}

/// Keeps the shared upstream client until shutdown, then closes its connections.
struct HTTPClientService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
