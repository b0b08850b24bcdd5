import HTTPTypes
import Hummingbird
import NIOCore
import ParleyCore
import ParleyProviders

/// An error on `/v1`, in OpenAI's shape — `{"error": {"message", "type", "param", "code"}}` — so OpenAI
/// clients raise their usual exception types (the `openai` SDK: `BadRequestError`, `AuthenticationError`,
/// `NotFoundError`, `RateLimitError`, `InternalServerError`…).
public struct OpenAIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var type: String
    public var message: String
    public var param: String?
    public var code: String?
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, type: String, message: String, param: String? = nil, code: String? = nil) {
        self.status = status
        self.type = type
        self.message = message
        self.param = param
        self.code = code
    }

    /// The error object's JSON text (also sent as an event when a stream fails after it started).
    public var json: String {
        "{\"error\":{\"message\":\(JSONText.quote(message)),\"type\":\(JSONText.quote(type)),"
            + "\"param\":\(param.map(JSONText.quote) ?? "null"),\"code\":\(code.map(JSONText.quote) ?? "null")}}"
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    static func invalid(_ error: InvalidGatewayRequest) -> OpenAIError {
        OpenAIError(.badRequest, type: "invalid_request_error", message: error.message, param: error.param)
    }

    /// The client's error for a call the router gave up on, with the attempts it made.
    static func from(_ failure: RoutingFailure) -> OpenAIError {
        var error: OpenAIError
        switch failure.reason {
        case .unknownModel(let model, let available):
            error = OpenAIError(.notFound, type: "invalid_request_error",
                                message: "The model '\(model)' does not exist"
                                    + (available.isEmpty ? "" : "; available: \(available.prefix(20).joined(separator: ", "))"),
                                param: "model",
                                code: "model_not_found")
        case .upstream(let cause):
            error = from(upstream: cause)
        case .deadline:
            error = OpenAIError(.gatewayTimeout, type: "timeout_error", message: failure.description, code: "deadline_exceeded")
        case .noDeployment(_, let retryAfter, let rateLimited):
            error = rateLimited
                ? OpenAIError(.tooManyRequests, type: "rate_limit_error", message: failure.description, code: "rate_limit_exceeded")
                : OpenAIError(.serviceUnavailable, type: "api_error", message: failure.description, code: "no_healthy_deployment")
            if let retryAfter { error.headers[.retryAfter] = String(max(1, retryAfter.roundedUpSeconds)) }
        }
        error.headers[ParleyHeaders.attempts] = String(failure.attempts)
        if let deployment = failure.lastDeployment { error.headers[ParleyHeaders.deployment] = deployment }
        return error
    }

    static func from(upstream cause: any Error) -> OpenAIError {
        switch cause {
        case let invalid as InvalidGatewayRequest:
            return .invalid(invalid)
        case let provider as ProviderError:
            switch provider {
            case .http(let status, let message, let retryAfter):
                if status == 429 {
                    var error = OpenAIError(.tooManyRequests, type: "rate_limit_error", message: "the upstream is rate limited: \(message)",
                                            code: "rate_limit_exceeded")
                    if let retryAfter { error.headers[.retryAfter] = String(Int(retryAfter.rounded(.up))) }
                    return error
                }
                if (400..<500).contains(status) {
                    return OpenAIError(HTTPResponse.Status(code: status), type: "invalid_request_error", message: message)
                }
                return OpenAIError(.badGateway, type: "api_error", message: provider.description, code: "upstream_error")
            case .connect:
                return OpenAIError(.badGateway, type: "api_error", message: provider.description, code: "upstream_unreachable")
            case .firstTokenTimeout, .idleTimeout:
                return OpenAIError(.gatewayTimeout, type: "timeout_error", message: provider.description, code: "upstream_timeout")
            case .streamCut, .invalidResponse:
                return OpenAIError(.badGateway, type: "api_error", message: provider.description, code: provider.kind)
            }
        default:
            return OpenAIError(.badGateway, type: "api_error", message: "the upstream call failed", code: "upstream_error")
        }
    }
}

/// Response headers that say how Parley served a `/v1` call.
enum ParleyHeaders {
    /// The deployment (`upstream/model`) that answered.
    static let deployment = HTTPField.Name("x-parley-deployment")!
    /// Upstream calls made, the answering one included.
    static let attempts = HTTPField.Name("x-parley-attempts")!
    /// The model that answered, when a fallback did.
    static let model = HTTPField.Name("x-parley-model")!
    /// A request's own deadline in seconds (at most the configured request timeout).
    static let timeout = HTTPField.Name("x-parley-timeout")!
    /// How the cache served the response: `hit`, `miss` or `bypass`.
    static let cache = HTTPField.Name("x-parley-cache")!
    /// Present (`true`) when the answer came from an identical request's upstream call.
    static let coalesced = HTTPField.Name("x-parley-coalesced")!
    /// Request: `no-cache`, `no-store`, `store`, `ttl=N`.
    static let cacheControl = HTTPField.Name("x-parley-cache-control")!
    /// Request: a cache namespace shared by whoever names it.
    static let cacheNamespace = HTTPField.Name("x-parley-cache-namespace")!
}
