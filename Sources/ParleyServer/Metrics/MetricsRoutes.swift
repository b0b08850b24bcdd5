import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ParleyAccounts
import ParleyCore
import ParleyGateway
import ParleyProviders
import ParleyStore
import Prometheus

/// `GET /metrics`: everything recorded, in Prometheus's text format, after the gauges that are read rather
/// than counted (generations running, streams open, breakers, the cache's size, the database's and Redis's
/// state, the process's memory, CPU and descriptors) are sampled. With ``ParleyConfig/metricsToken`` set, only
/// a request bearing it is answered; others get a 401.
struct MetricsRoutes: Sendable {
    let registry: PrometheusCollectorRegistry
    let token: String?
    let services: ParleyServices
    let process = ProcessMetrics()

    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    func register(on router: some RouterMethods<ParleyRequestContext>) {
        router.get("metrics", use: metrics)
    }

    @Sendable func metrics(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        if let token {
            guard case .bearer(let presented) = Authenticator.presented(request),
                  Credentials.constantTimeEqual(Array(presented.utf8), Array(token.utf8)) else {
                var error = ClientError(.unauthorized, type: "unauthorized",
                                        message: "/metrics needs 'Authorization: Bearer <metrics_token>'", code: "invalid_token")
                error.headers[.wwwAuthenticate] = "Bearer realm=\"metrics\""
                throw error
            }
        }
        sample()
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64 << 10)
        registry.emit(into: &buffer)
        return Response(status: .ok, headers: [.contentType: Self.contentType, .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer)))
    }

    /// Sets the gauges that are read, not counted.
    func sample() {
        Gauge(label: MetricName.generationsRunning).record(services.hub.runningCount)
        Gauge(label: MetricName.streamsOpen).record(services.authenticator.streams.count)
        Gauge(label: MetricName.databaseAvailable).record(services.store.isAvailable ? 1 : 0)
        if let redis = services.redis {
            Gauge(label: MetricName.redisAvailable).record(redis.tracker.isDown ? 0 : 1)
        }
        let memory = services.gateway.cache as? MemoryResponseCache
            ?? (services.gateway.cache as? FailoverResponseCache)?.fallback as? MemoryResponseCache
        if let statistics = memory?.statistics {
            Gauge(label: MetricName.cacheEntries).record(statistics.entries)
            Gauge(label: MetricName.cacheBytes).record(statistics.bytes)
        }
        services.router.sampleMetrics()
        process.sample()
    }
}
