import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ParleyCore
import Synchronization

/// What one request is known by in the logs: its id, and what routing and authentication learn on the way in
/// (the route's pattern, the user). Shared by every copy of the request's context.
final class RequestTrace: Sendable {
    let id: String
    let route = Mutex<String?>(nil)
    let user = Mutex<String?>(nil)

    init(id: String) {
        self.id = id
    }
}

/// One log line per request at `info`: method, the route's pattern (never the path's ids or query), status,
/// milliseconds until the response's head (a stream goes on after it), the user when signed in, and the request
/// id — taken from the client's `X-Request-Id` when it is a sane token, made otherwise, and sent back. Never a
/// key, a cookie or message text. The id is also on every other log line the request causes, as is the trace id of
/// a client's W3C `traceparent`, which the request's upstream calls carry on (``TraceParent``). While tracing is on,
/// the request is a server span instead (``RequestSpan``), a child of the client's `traceparent`, and the trace id
/// logged is the span's.
///
/// The same measurement feeds the metrics: ``MetricName/httpDuration`` by route pattern, method and status
/// class, and ``MetricName/httpActive``.
struct AccessLog: RouterMiddleware {
    typealias Context = ParleyRequestContext
    static let header = HTTPField.Name("X-Request-Id")!
    static let traceparent = HTTPField.Name("traceparent")!
    static let tracestate = HTTPField.Name("tracestate")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = Self.acceptable(request.headers.value(of: Self.header)) ?? Self.newID()
        let trace = RequestTrace(id: id)
        var context = context
        context.trace = trace
        context.logger[metadataKey: "request_id"] = .string(id)
        let span = Traces.enabled ? RequestSpan.start(request) : nil
        let parent = span == nil
            ? TraceParent(header: request.headers.value(of: Self.traceparent), state: request.headers.value(of: Self.tracestate))
            : nil
        if let traceID = span.flatMap(Traces.traceID(of:)) ?? parent?.traceID {
            context.logger[metadataKey: "trace_id"] = .string(String(traceID))
        }
        let started = ContinuousClock.now
        Self.active.increment()
        defer { Self.active.decrement() }
        do {
            var response = try await Traces.within(span) {
                try await TraceParent.$current.withValue(parent) { try await next(request, context) }
            }
            response.headers[Self.header] = id
            let route = finish(request, trace, status: Int(response.status.code), since: started, logger: context.logger)
            if let span { RequestSpan.finish(span, route: route, trace: trace, response: &response) }
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            let route = finish(request, trace, status: Int(status), since: started, logger: context.logger)
            if let span { RequestSpan.finish(span, route: route, trace: trace, status: Int(status)) }
            throw error
        }
    }

    /// Records the request in the metrics and the log; returns the route's pattern.
    private func finish(_ request: Request, _ trace: RequestTrace, status: Int, since started: ContinuousClock.Instant,
                        logger: Logger) -> String {
        let route = trace.route.withLock { $0 } ?? "unmatched"
        Self.durations(route, HTTPMethods.implemented.contains(request.method) ? request.method.rawValue : "other",
                       MetricName.statusClass(status)).recordSince(started)
        guard logger.logLevel <= .info else { return route }
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue),
            "route": .string(route),
            "status": .stringConvertible(status),
            // Tenths of a millisecond, without a formatter on every request.
            "ms": .stringConvertible(Double((ContinuousClock.now - started).wholeMicroseconds / 100) / 10),
        ]
        if let user = trace.user.withLock({ $0 }) { metadata["user"] = .string(user) }
        logger.info("request", metadata: metadata)
        return route
    }

    static let durations = MetricFamily(timer: MetricName.httpDuration, labels: ["route", "method", "status"])
    static let active = Meter(label: MetricName.httpActive)

    /// A client's id when it is 1 to 128 letters, digits, `-`, `_`, `.` or `:` (anything else could forge log lines).
    static func acceptable(_ value: String?) -> String? {
        guard let value, (1...128).contains(value.utf8.count),
              value.utf8.allSatisfy({ $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
                  || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":") }) else { return nil }
        return value
    }

    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode(withUnsafeBytes(of: generator.next() as UInt64) { Array($0) })
    }
}

private extension UInt8 {
    var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}

/// Routes a request to `inner`, noting the route's pattern on the request's trace.
struct NamedResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == ParleyRequestContext {
    let pattern: String
    let inner: Inner

    func respond(to request: Request, context: ParleyRequestContext) async throws -> Response {
        context.trace?.route.withLock { $0 = pattern }
        return try await inner.respond(to: request, context: context)
    }
}
