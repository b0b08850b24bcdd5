import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Logging
import NIOCore
import ParleyCore
import ParleyProviders
import ParleyStore
import ServiceLifecycle

/// The whole Parley server as one service: the HTTP application, the generation hub and the shared
/// upstream HTTP client. Run it inside a `ServiceGroup`; on graceful shutdown running generations get
/// ``ParleyConfig/shutdownGrace`` to finish, then the server stops accepting and closes.
public struct ParleyServer: Service {
    public let config: ParleyConfig
    public let store: any ConversationStore
    public let hub: GenerationHub
    let application: Application<RouterResponder<BasicRequestContext>>
    let httpClient: HTTPClient
    /// The PostgreSQL connection pool's task, when the store is PostgreSQL.
    let databasePool: Task<Void, Never>?
    let logger: Logger

    /// Opens the database, migrates it, marks answers left `streaming` by a previous run as `interrupted`,
    /// and assembles the routes. `onServerRunning` receives the bound port (useful with port 0).
    public static func build(config: ParleyConfig, logger: Logger,
                             onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws
        -> ParleyServer
    {
        let store: any ConversationStore
        var databasePool: Task<Void, Never>?
        switch try config.database() {
        case .sqlite(let path):
            store = try SQLiteConversationStore(path: path)
        case .postgres(let url):
            let postgres = PostgresConversationStore(configuration: try PostgresConversationStore.configuration(url: url),
                                                     logger: logger)
            databasePool = Task { await postgres.run() }
            store = postgres
        }
        do {
            try await store.migrate()
        } catch {
            databasePool?.cancel()
            throw error
        }
        let interrupted = try await store.interruptStreamingMessages()
        if interrupted > 0 {
            logger.notice("marked answers left unfinished by the last run as interrupted", metadata: ["count": "\(interrupted)"])
        }

        let httpClient = OpenAICompatibleProvider.makeHTTPClient(timeouts: config.timeouts)

        let models = UpstreamDirectory(upstreams: config.upstreams, defaultModel: config.defaultModel,
                                       client: httpClient, timeouts: config.timeouts, logger: logger)
        let hub = GenerationHub(store: store, settings: .init(flushInterval: config.flushInterval,
                                                              eventBufferLimit: config.eventBufferLimit,
                                                              keepAliveInterval: config.keepAliveInterval,
                                                              maxRunningJobs: config.maxGenerations),
                                logger: logger)
        let services = ParleyServices(
            config: config, store: store, models: models, hub: hub,
            chat: ChatService(store: store, models: models, hub: hub, limits: config.limits),
            feed: GenerationFeed(hub: hub, store: store, pollInterval: config.flushInterval))

        let router = Router()
        router.middlewares.add(LogRequestsMiddleware(.debug))
        router.middlewares.add(ErrorMiddleware())
        let api = router.group("api/v1")
        ConversationRoutes(services: services).register(on: api)
        MessageRoutes(services: services).register(on: api)
        SystemRoutes(services: services).register(on: router)

        let application = Application(
            router: router,
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "parley"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? config.port) },
            logger: logger)
        if config.upstreams.isEmpty {
            logger.notice("no upstream configured: only the built-in demo model answers (set OPENAI_BASE_URL to connect one)")
        }
        for upstream in config.upstreams { logger.info("upstream \(upstream)") }
        return ParleyServer(config: config, store: store, hub: hub, application: application, httpClient: httpClient,
                            databasePool: databasePool, logger: logger)
    }

    public func run() async throws {
        // Graceful shutdown runs in reverse order: generations drain first, then the HTTP server closes,
        // then the upstream client.
        let group = ServiceGroup(configuration: .init(
            services: [HTTPClientService(client: httpClient), application,
                       GenerationHubService(hub: hub, grace: config.shutdownGrace)],
            logger: logger))
        defer { databasePool?.cancel() }
        try await group.run()
    }
}

/// Runs the hub's flush loop; at shutdown lets generations finish within the grace period, then stores the rest.
struct GenerationHubService: Service {
    let hub: GenerationHub
    let grace: Duration

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            // Keep saving partial text while running answers use their grace period.
            group.addTask { await hub.runFlushLoop() }
            let graceful = (try? await gracefulShutdown()) != nil
            await hub.shutdown(grace: graceful ? grace : .zero)
            group.cancelAll()
        }
        await hub.flush()
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
