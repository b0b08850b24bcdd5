import HTTPTypes
import Hummingbird
import ParleyCore
import Synchronization
import Tracing

/// The server span of one request while tracing is on (``Traces``): a child of the client's W3C `traceparent`
/// when it sent one, named `METHOD /route/{pattern}` in OpenTelemetry's HTTP conventions, ended when the response's
/// body has been written (a stream's span lasts as long as the stream). The path is recorded, the query, the
/// headers and the body never are.
enum RequestSpan {
    static func start(_ request: Request) -> (any Span)? {
        var parent = InstrumentationContext.current ?? .topLevel
        InstrumentationSystem.instrument.extract(request.headers, into: &parent, using: HTTPFieldsExtractor())
        let span = InstrumentationSystem.tracer.startAnySpan(request.method.rawValue, context: parent, ofKind: .server)
        span.updateAttributes { attributes in
            attributes["http.request.method"] = HTTPMethods.implemented.contains(request.method) ? request.method.rawValue : "_OTHER"
            attributes["url.path"] = request.uri.path
            attributes["user_agent.original"] = request.headers.value(of: .userAgent)
        }
        return span
    }

    /// Names the span after the route and ends it once `response`'s body is written.
    static func finish(_ span: any Span, route: String, trace: RequestTrace, response: inout Response) {
        describe(span, route: route, trace: trace, status: Int(response.status.code))
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            defer { span.end() }
            try await body.write(writer)
        }
    }

    /// Names the span after the route and ends it with the error status a request was answered with.
    static func finish(_ span: any Span, route: String, trace: RequestTrace, status: Int) {
        describe(span, route: route, trace: trace, status: status)
        span.end()
    }

    private static func describe(_ span: any Span, route: String, trace: RequestTrace, status: Int) {
        span.operationName = "\(span.operationName) \(route)"
        span.updateAttributes { attributes in
            attributes["http.route"] = route
            attributes["http.response.status_code"] = status
            if let user = trace.user.withLock({ $0 }) { attributes["user.id"] = user }
            if status >= 500 { attributes["error.type"] = String(status) }
        }
        if status >= 500 { span.setStatus(SpanStatus(code: .error)) }
    }
}

/// Reads propagation headers from a request's fields.
private struct HTTPFieldsExtractor: Extractor {
    func extract(key name: String, from headers: HTTPFields) -> String? {
        HTTPField.Name(name).flatMap { headers.value(of: $0) }
    }
}
