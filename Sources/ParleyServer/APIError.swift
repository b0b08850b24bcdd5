import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ParleyCore
import ParleyProviders

/// An error response: `{"error": {"type": …, "message": …}}` with its status.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var type: String
    public var message: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, type: String, message: String) {
        self.status = status
        self.type = type
        self.message = message
    }

    public static func invalid(_ message: String) -> APIError { APIError(.badRequest, type: "invalid_request", message: message) }
    public static func notFound(_ message: String) -> APIError { APIError(.notFound, type: "not_found", message: message) }
    public static func bodyTooLarge(limit: Int) -> APIError {
        APIError(.contentTooLarge, type: "payload_too_large", message: "the request body is larger than \(limit) bytes")
    }

    /// A request whose bytes are not HTTP (a bad chunk size, a header line cut short…): a 400, and the connection
    /// is closed after it (``ConnectionGuard``), since nothing after the fault can be framed.
    public static func malformedHTTP(_ error: HTTPParserError) -> APIError {
        var apiError = APIError(.badRequest, type: "malformed_request", message: "the request is not valid HTTP/1.1 (\(error))")
        apiError.headers[.connection] = "close"
        return apiError
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.cacheControl] = "no-store"
        let body = "{\"error\":{\"type\":\(JSONText.quote(type)),\"message\":\(JSONText.quote(message))}}"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// A rate-limit refusal: 429 with `Retry-After` and `RateLimit-*` (the UI shows when to retry), or 413.
    static func from(_ refusal: LimitRefusal) -> APIError {
        switch refusal {
        case .limited(_, _, let retryAfter, let state):
            var error = APIError(.tooManyRequests, type: "rate_limited", message: refusal.description)
            RateLimitHeaders.add(state, to: &error.headers)
            RateLimitHeaders.add(retryAfter: retryAfter, to: &error.headers)
            return error
        case .tooLarge:
            return APIError(.contentTooLarge, type: "payload_too_large", message: refusal.description)
        }
    }

    /// The API error for anything a handler or the framework threw.
    static func from(_ error: any Error) -> APIError? {
        switch error {
        case let error as APIError:
            return error
        case let error as ParleyError:
            switch error {
            case .notFound(let message): return .notFound(message)
            case .invalid(let message): return .invalid(message)
            case .conflict(let message): return APIError(.conflict, type: "conflict", message: message)
            case .tooLarge(let message): return APIError(.contentTooLarge, type: "payload_too_large", message: message)
            case .unavailable(let message): return APIError(.serviceUnavailable, type: "unavailable", message: message)
            }
        case let error as HTTPParserError:
            return .malformedHTTP(error)
        case let error as HTTPError:
            switch error.status {
            case .notFound:
                return .notFound("no such endpoint")
            case .contentTooLarge:
                return APIError(.contentTooLarge, type: "payload_too_large", message: "the request body is too large")
            case .methodNotAllowed:
                return APIError(.methodNotAllowed, type: "method_not_allowed", message: "method not allowed here")
            default:
                let type = error.status.code < 500 ? "invalid_request" : "server_error"
                return APIError(error.status, type: type, message: error.body ?? error.status.reasonPhrase)
            }
        default:
            return nil
        }
    }
}

/// Turns every error into the JSON error shape; unexpected ones become a 500 that hides internals.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as OpenAIError {
            throw error
        } catch {
            if let apiError = APIError.from(error) { throw apiError }
            context.logger.error("unexpected error", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            throw APIError(.internalServerError, type: "server_error", message: "internal error; see the server log")
        }
    }
}
