import ParleyGateway
import HTTPTypes
import Hummingbird
import NIOHTTP1

/// What a failed request tells its client, whichever API it came in through.
///
/// Every error a handler, a middleware or the framework throws becomes one of these in ``ClientError/from(_:)``
/// (the only place causes are mapped to statuses), and ``ErrorShape`` renders it: Parley's
/// `{"error": {"type", "message"}}` on `/api` and the web UI, OpenAI's `{"error": {"message", "type", "param",
/// "code"}}` on `/v1`, and as an event when a `/v1` stream fails after it started.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// Parley's error type (`invalid_request`, `not_found`, `rate_limited`…); OpenAI's type comes from it.
    public var type: String
    public var message: String
    /// The request field at fault (OpenAI's `param`).
    public var param: String?
    /// A more specific reason (OpenAI's `code`: `model_not_found`, `rate_limit_exceeded`…).
    public var code: String?
    /// Headers the response carries: `Retry-After`, `RateLimit-*`, `Connection: close`, `x-parley-attempts`…
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, type: String, message: String, param: String? = nil, code: String? = nil) {
        self.status = status
        self.type = type
        self.message = message
        self.param = param
        self.code = code
    }

    public var description: String { "\(status.code) \(type): \(message)" }

    public static func invalid(_ message: String, param: String? = nil) -> ClientError {
        ClientError(.badRequest, type: "invalid_request", message: message, param: param)
    }

    public static func notFound(_ message: String) -> ClientError { ClientError(.notFound, type: "not_found", message: message) }

    public static func bodyTooLarge(limit: Int) -> ClientError {
        ClientError(.contentTooLarge, type: "payload_too_large", message: "the request body is larger than \(limit) bytes")
    }

    /// A request whose bytes are not HTTP (a bad chunk size, a header line cut short…): a 400, and the connection
    /// is closed after it (``ConnectionGuard``), since nothing after the fault can be framed.
    public static func malformedHTTP(_ error: HTTPParserError) -> ClientError {
        var clientError = ClientError(.badRequest, type: "malformed_request", message: "the request is not valid HTTP/1.1 (\(error))")
        clientError.headers[.connection] = "close"
        return clientError
    }

    /// A missing or wrong API key.
    public static func unauthorized(_ message: String) -> ClientError {
        ClientError(.unauthorized, type: "unauthorized", message: message, code: "invalid_api_key")
    }

    public static func forbidden(_ message: String) -> ClientError {
        ClientError(.forbidden, type: "forbidden", message: message)
    }

    /// What an unexpected error becomes: a 500 that hides internals (they go to the log).
    public static let `internal` = ClientError(.internalServerError, type: "server_error", message: "internal error; see the server log")
}

extension ClientError: HTTPResponseError {
    /// Thrown past every ``ErrorMiddleware`` (it never is on Parley's routes): Parley's shape.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        ErrorShape.parley.response(self)
    }
}
