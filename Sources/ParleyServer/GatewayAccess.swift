import HTTPTypes
import Hummingbird
import ParleyAccounts
import ParleyCore

/// Who may call `/v1`: a service key from `PARLEY_API_KEYS`, or a user's API key with the `gateway` scope.
/// With no service keys configured, clients on this machine may also call it without a key.
struct GatewayAccess: RouterMiddleware {
    let authenticator: Authenticator

    func handle(_ request: Request, context: ParleyRequestContext,
                next: (Request, ParleyRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        switch Authenticator.presented(request) {
        case .bearer(let key) where !key.isEmpty:
            if let id = authenticator.serviceKeys.id(of: key) {
                context.principal = id
            } else if key.hasPrefix(Credentials.keyMarker) {
                let principal = try await authenticator.accounts.principal(apiKey: key)
                guard principal.may(.gateway) else {
                    throw ClientError.forbidden("this API key lacks the 'gateway' scope")
                }
                context.signIn(principal, streams: authenticator.streams)
            } else {
                throw ClientError.unauthorized("Incorrect API key provided")
            }
        case .bearer:
            throw ClientError.unauthorized("You didn't provide an API key: send Authorization: Bearer <key>")
        case .none, .cookie:
            guard authenticator.serviceKeys.isEmpty, context.isLoopback else {
                throw ClientError.unauthorized("You didn't provide an API key: send Authorization: Bearer <key>")
            }
        }
        return try await next(request, context)
    }
}
