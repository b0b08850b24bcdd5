import Synchronization
import Tracing

/// Parley's own spans, through swift-distributed-tracing. Off until `parley serve` bootstraps a tracer (OpenTelemetry,
/// when `OTEL_EXPORTER_OTLP_ENDPOINT` is set) and calls ``enable()``; while off, a span site costs one atomic load:
/// no span, no name, no attribute is made.
///
/// Spans follow the task: ``start(_:kind:)`` makes a child of the task's current span context, and ``within(_:_:)``
/// makes a span the current one for what `body` calls, and for the tasks it creates (a generation job inherits its
/// turn's). An upstream call carries the trace out in W3C `traceparent` (``outgoingHeaders()``).
/// Message text is never put on a span.
public enum Traces {
    private static let on = Atomic<Bool>(false)

    /// Whether a tracer records spans.
    public static var enabled: Bool { on.load(ordering: .relaxed) }

    /// Turns span recording on; call once, after `InstrumentationSystem.bootstrap` with a tracer.
    public static func enable() {
        on.store(true, ordering: .relaxed)
    }

    /// A span started as a child of the task's current span context, or nil while off. Without a current context
    /// it is a root, or — `childOnly` — none: housekeeping outside any request (sweeps, lease renewals, flushes)
    /// would otherwise be a stream of one-span traces. End it with `end()`.
    public static func start(_ name: @autoclosure () -> String, kind: SpanKind = .internal, childOnly: Bool = false)
        -> (any Span)?
    {
        guard enabled else { return nil }
        let parent = InstrumentationContext.current
        if childOnly, parent == nil { return nil }
        return InstrumentationSystem.tracer.startAnySpan(name(), context: parent ?? .topLevel, ofKind: kind)
    }

    /// Runs `body` with `span` as the current span context; without a span, just runs it.
    public static func within<T>(_ span: (any Span)?, _ body: () async throws -> T) async rethrows -> T {
        guard let span else { return try await body() }
        return try await InstrumentationContext.$current.withValue(span.context) { try await body() }
    }

    /// Marks `span` failed: `type` (else the error's type name) in `error.type` and the status. The error's
    /// description is not recorded: an upstream's or a database's message may quote what was sent.
    public static func failed(_ span: (any Span)?, _ error: any Error, type: String? = nil) {
        guard let span else { return }
        let kind = type ?? (error is CancellationError ? "cancelled" : String(describing: Swift.type(of: error)))
        span.attributes["error.type"] = kind
        span.setStatus(SpanStatus(code: .error, message: kind))
    }

    /// The W3C trace headers an outgoing call carries: the current span context while tracing is on (the
    /// upstream attempt's span), else the client's own `traceparent` and `tracestate` as they came
    /// (``TraceParent``), else none.
    public static func outgoingHeaders() -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        if enabled {
            guard let context = InstrumentationContext.current else { return headers }
            InstrumentationSystem.instrument.inject(context, into: &headers, using: HeaderListInjector())
        } else if let parent = TraceParent.current {
            headers.append((TraceParent.headerName, parent.value))
            if let state = parent.state { headers.append((TraceParent.stateHeaderName, state)) }
        }
        return headers
    }

    /// The trace id of `span`, for the logs (through the tracer's own W3C propagation).
    public static func traceID(of span: any Span) -> Substring? {
        var headers: [(name: String, value: String)] = []
        InstrumentationSystem.instrument.inject(span.context, into: &headers, using: HeaderListInjector())
        return TraceParent(header: headers.first { $0.name == TraceParent.headerName }?.value)?.traceID
    }
}

/// Writes propagation headers into a list of name–value pairs.
private struct HeaderListInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [(name: String, value: String)]) {
        carrier.append((key, value))
    }
}
