import Foundation
import HTTPTypes
import Hummingbird
import NIOHTTP1
import ParleyAccounts
import ParleyCore
import ParleyGateway
import ParleyProviders

extension ClientError {
    /// The client's error for anything thrown while serving a request; `nil` for what is not the client's or an
    /// upstream's doing (a bug, which the caller logs and answers as ``internal``).
    public static func from(_ error: any Error) -> ClientError? {
        switch error {
        case let error as ClientError: error
        case let error as ParleyError: from(error)
        case let error as AccountError: from(error)
        case let refusal as LimitRefusal: from(refusal)
        case let refusal as BudgetRefusal: from(refusal)
        case let failure as RoutingFailure: from(failure)
        case let invalid as InvalidGatewayRequest: .invalid(invalid.message, param: invalid.param)
        case let provider as ProviderError: from(provider)
        case let error as HTTPParserError: .malformedHTTP(error)
        case let error as HTTPError: from(error)
        default: nil
        }
    }

    static func from(_ error: ParleyError) -> ClientError {
        switch error {
        case .notFound(let message): .notFound(message)
        case .invalid(let message): .invalid(message)
        case .conflict(let message): ClientError(.conflict, type: "conflict", message: message)
        case .tooLarge(let message): ClientError(.contentTooLarge, type: "payload_too_large", message: message)
        case .unavailable(let message): ClientError(.serviceUnavailable, type: "unavailable", message: message)
        }
    }

    /// An account rule: who may sign in, and with what.
    static func from(_ error: AccountError) -> ClientError {
        switch error {
        case .invalidCredentials: ClientError(.unauthorized, type: "unauthorized", message: error.description, code: "invalid_credentials")
        case .unauthenticated: .unauthorized(error.description)
        case .pendingApproval: ClientError(.forbidden, type: "forbidden", message: error.description, code: "pending_approval")
        case .disabled: ClientError(.forbidden, type: "forbidden", message: error.description, code: "account_disabled")
        case .forbidden: .forbidden(error.description)
        case .emailTaken: ClientError(.conflict, type: "conflict", message: error.description, code: "email_taken")
        case .alreadySetUp: ClientError(.conflict, type: "conflict", message: error.description, code: "already_set_up")
        case .signUpClosed: ClientError(.forbidden, type: "forbidden", message: error.description, code: "signup_closed")
        case .weakPassword: ClientError(.badRequest, type: "invalid_request", message: error.description, param: "password", code: "weak_password")
        case .invalid: .invalid(error.description)
        case .secondFactorRequired: ClientError(.unauthorized, type: "unauthorized", message: error.description, code: "totp_required")
        case .wrongCode: ClientError(.unauthorized, type: "unauthorized", message: error.description, param: "code", code: "invalid_code")
        }
    }

    /// A rate-limit refusal: 429 with the exact wait in `Retry-After` and `RateLimit-*`, or 413 for a request
    /// that can never pass.
    static func from(_ refusal: LimitRefusal) -> ClientError {
        switch refusal {
        case .limited(_, _, let retryAfter, let state, _):
            var error = ClientError(.tooManyRequests, type: "rate_limited", message: refusal.description, code: "rate_limit_exceeded")
            RateLimitHeaders.add(state, to: &error.headers)
            RateLimitHeaders.add(retryAfter: retryAfter, to: &error.headers)
            return error
        case .tooLarge:
            return ClientError(.contentTooLarge, type: "payload_too_large", message: refusal.description, code: "tokens_exceed_limit")
        }
    }

    /// A spent budget: a 429 until the period renews.
    static func from(_ refusal: BudgetRefusal) -> ClientError {
        var error = ClientError(.tooManyRequests, type: "budget_exceeded", message: refusal.description, code: "budget_exceeded")
        RateLimitHeaders.add(retryAfter: .seconds(max(1, refusal.resetsAt.timeIntervalSinceNow.rounded(.up))), to: &error.headers)
        return error
    }

    /// A call the router gave up on, with the attempts it made.
    static func from(_ failure: RoutingFailure) -> ClientError {
        var error: ClientError
        switch failure.reason {
        case .unknownModel(let model, let available):
            error = ClientError(.notFound, type: "not_found",
                                message: "The model '\(model)' does not exist"
                                    + (available.isEmpty ? "" : "; available: \(available.prefix(20).joined(separator: ", "))"),
                                param: "model", code: "model_not_found")
        case .upstream(let cause):
            error = from(cause) ?? .upstreamFailed
        case .deadline:
            error = ClientError(.gatewayTimeout, type: "timeout", message: failure.description, code: "deadline_exceeded")
        case .noDeployment(_, let retryAfter, let rateLimited):
            error = rateLimited
                ? ClientError(.tooManyRequests, type: "rate_limited", message: failure.description, code: "rate_limit_exceeded")
                : ClientError(.serviceUnavailable, type: "unavailable", message: failure.description, code: "no_healthy_deployment")
            if let retryAfter { error.headers[.retryAfter] = String(max(1, retryAfter.roundedUpSeconds)) }
        }
        error.headers[ParleyHeaders.attempts] = String(failure.attempts)
        if let deployment = failure.lastDeployment { error.headers[ParleyHeaders.deployment] = deployment }
        return error
    }

    /// An upstream's failure as its client sees it: its 4xx passed on, its 429 with the wait, the rest a 502 or 504.
    static func from(_ provider: ProviderError) -> ClientError {
        switch provider {
        case .http(let status, let message, let retryAfter):
            if status == 429 {
                var error = ClientError(.tooManyRequests, type: "rate_limited", message: "the upstream is rate limited: \(message)",
                                        code: "rate_limit_exceeded")
                if let retryAfter { error.headers[.retryAfter] = String(Int(retryAfter.rounded(.up))) }
                return error
            }
            if (400..<500).contains(status) {
                return ClientError(HTTPResponse.Status(code: status), type: "invalid_request", message: message)
            }
            return ClientError(.badGateway, type: "upstream_error", message: provider.description, code: "upstream_error")
        case .connect:
            return ClientError(.badGateway, type: "upstream_error", message: provider.description, code: "upstream_unreachable")
        case .firstTokenTimeout, .idleTimeout:
            return ClientError(.gatewayTimeout, type: "timeout", message: provider.description, code: "upstream_timeout")
        case .streamCut, .invalidResponse:
            return ClientError(.badGateway, type: "upstream_error", message: provider.description, code: provider.kind)
        }
    }

    /// An upstream call that failed for a reason Parley has no name for.
    static let upstreamFailed = ClientError(.badGateway, type: "upstream_error", message: "the upstream call failed", code: "upstream_error")

    /// The framework's own errors: no route, wrong method, a body over the limit.
    static func from(_ error: HTTPError) -> ClientError {
        switch error.status {
        case .notFound:
            return .notFound("no such endpoint")
        case .contentTooLarge:
            return ClientError(.contentTooLarge, type: "payload_too_large", message: "the request body is too large")
        case .methodNotAllowed:
            return ClientError(.methodNotAllowed, type: "method_not_allowed", message: "method not allowed here")
        default:
            let type = error.status.code < 500 ? "invalid_request" : "server_error"
            return ClientError(error.status, type: type, message: error.body ?? error.status.reasonPhrase)
        }
    }
}
