import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ParleyCore
import ParleyGateway
import ParleyRedis
import ParleyStore

/// The health checks, and `/api/v1/models` (registered on the signed-in API group by ``registerModels(on:)``).
struct SystemRoutes {
    let store: GuardedConversationStore
    let models: any ModelDirectory
    /// Redis, when configured: its outage tracker answers the readiness check.
    let redis: SharedBackend?
    /// Draining (SIGTERM): readiness answers 503 at once.
    let drain: Drain
    /// The models that take images, as `/api/v1/models` says.
    var visionModels = ModelNamePatterns([])

    func register(on router: some RouterMethods<ParleyRequestContext>) {
        router.get("health/live", use: live)
        router.get("health/ready", use: ready)
        router.get("openapi.json", use: description)
    }

    /// The API's published description (``APIDescription``), for anyone: it says nothing about this server's data.
    @Sendable func description(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        var response = Response.json(text: APIDescription.json)
        response.headers[.cacheControl] = "public, max-age=3600"
        return response
    }

    func registerModels(on api: some RouterMethods<ParleyRequestContext>) {
        api.get("models", use: models)
    }

    @Sendable func models(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let available = await models.models()
        return try Response.json(API.ModelList(
            data: available.filter { !$0.embeddingsOnly }.map { API.Model(id: $0.id, upstream: $0.upstream, vision: visionModels.matches($0.id)) },
            defaultModel: await models.defaultModel()))
    }

    /// The process is up.
    @Sendable func live(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        Response.json(text: #"{"status":"ok"}"#)
    }

    /// The process can serve: it is not shutting down, its database answered the last health check (run every second) and answers now,
    /// and Redis, when configured, answers (or the replica fails open without it, which it reports).
    @Sendable func ready(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        if drain.isDraining {
            return try Response.json(["status": "draining"], status: .serviceUnavailable)
        }
        var report = ["status": "ready", "database": "ok"]
        var ready = true
        do {
            guard store.isAvailable else { throw ParleyError.unavailable("the last health check failed") }
            try await store.ping()
        } catch {
            context.logger.debug("readiness check failed", metadata: ["error": "\(error)"])
            (report["database"], ready) = ("unreachable", false)
        }
        if let redis = redis {
            if (try? await redis.client.send(["PING"])) != nil {
                report["redis"] = "ok"
            } else if redis.tracker.mode == .open {
                report["redis"] = "unreachable (failing open: cache and limits are this replica's own)"
            } else {
                (report["redis"], ready) = ("unreachable", false)
            }
        }
        if !ready { report["status"] = "unavailable" }
        return try Response.json(report, status: ready ? .ok : .serviceUnavailable)
    }
}
