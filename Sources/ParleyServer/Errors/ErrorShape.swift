import HTTPTypes
import Logging
import Hummingbird
import NIOCore
import ParleyCore

/// How a ``ClientError`` is written: Parley's shape for `/api` and the web UI, OpenAI's for `/v1`, so OpenAI
/// clients raise their usual exception types (the `openai` SDK: `BadRequestError`, `AuthenticationError`,
/// `NotFoundError`, `RateLimitError`, `InternalServerError`…).
public enum ErrorShape: Sendable {
    case parley
    case openAI

    /// The shape a request to `path` is answered in.
    public static func forPath(_ path: String) -> ErrorShape {
        path == "/v1" || path.hasPrefix("/v1/") ? .openAI : .parley
    }

    /// The error object's JSON text (also sent as a `/v1` stream event when a stream fails after it started).
    public func body(_ error: ClientError) -> String {
        switch self {
        case .parley:
            // `code`, when there is one, tells programs what they can act on (`pending_approval`, `weak_password`…).
            return "{\"error\":{\"type\":\(JSONText.quote(error.type)),\"message\":\(JSONText.quote(error.message))"
                + (error.code.map { ",\"code\":" + JSONText.quote($0) } ?? "") + "}}"
        case .openAI:
            return "{\"error\":{\"message\":\(JSONText.quote(error.message)),\"type\":\(JSONText.quote(Self.openAIType(of: error))),"
                + "\"param\":\(error.param.map(JSONText.quote) ?? "null"),\"code\":\(error.code.map(JSONText.quote) ?? "null")}}"
        }
    }

    public func response(_ error: ClientError) -> Response {
        var fields = error.headers
        switch self {
        case .parley:
            fields[.contentType] = "application/json; charset=utf-8"
            fields[.cacheControl] = "no-store"
        case .openAI:
            fields[.contentType] = "application/json"
        }
        return Response(status: error.status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: body(error))))
    }

    /// OpenAI's four error types, from Parley's.
    static func openAIType(of error: ClientError) -> String {
        switch error.type {
        case "rate_limited": "rate_limit_error"
        case "timeout": "timeout_error"
        case "unavailable", "upstream_error", "server_error": "api_error"
        default: error.status.code < 500 ? "invalid_request_error" : "api_error"
        }
    }
}

/// Answers every error thrown below it — by a route, a middleware or the framework (no such route, wrong
/// method) — as a ``ClientError`` in its path's ``ErrorShape``; unexpected ones are logged and become a 500 that
/// hides internals.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            return Self.response(for: error, to: request, logger: context.logger)
        }
    }

    /// The response for `error` thrown while serving `request`, in its path's shape.
    static func response(for error: any Error, to request: Request, logger: Logger) -> Response {
        let shape = ErrorShape.forPath(request.uri.path)
        guard let clientError = ClientError.from(error) else {
            logger.error("unexpected error", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return shape.response(.internal)
        }
        return shape.response(clientError)
    }
}
