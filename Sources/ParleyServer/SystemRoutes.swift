import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ParleyCore
import ParleyStore

/// `/api/v1/models` and the health checks.
struct SystemRoutes {
    let services: ParleyServices

    func register(on router: Router<ParleyRequestContext>) {
        router.get("api/v1/models", use: models)
        router.get("health/live", use: live)
        router.get("health/ready", use: ready)
    }

    @Sendable func models(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let models = await services.models.models()
        return try Response.json(API.ModelList(
            data: models.map { API.Model(id: $0.id, upstream: $0.upstream) },
            defaultModel: await services.models.defaultModel()))
    }

    /// The process is up.
    @Sendable func live(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        try Response.json(["status": "ok"])
    }

    /// The process can serve: its database answered the last health check (run every second) and answers now.
    @Sendable func ready(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        do {
            guard services.store.isAvailable else { throw ParleyError.unavailable("the last health check failed") }
            try await services.store.ping()
            return try Response.json(["status": "ready", "database": "ok"])
        } catch {
            context.logger.debug("readiness check failed", metadata: ["error": "\(error)"])
            return try Response.json(["status": "unavailable", "database": "unreachable"], status: .serviceUnavailable)
        }
    }
}
