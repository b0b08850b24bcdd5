import HTTPTypes
import Hummingbird
import ParleyAccounts
import ParleyCore

/// Lets through only requests from a signed-in user whose credential carries `scope`, and makes them act as
/// that user (``ParleyRequestContext/owner``). A state-changing request authenticated by the session cookie
/// must also carry the session's CSRF token in `X-CSRF-Token`; key requests carry no ambient credential and
/// need none.
struct RequireAccount: RouterMiddleware {
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    let authenticator: Authenticator
    let scope: KeyScope

    func handle(_ request: Request, context: ParleyRequestContext,
                next: (Request, ParleyRequestContext) async throws -> Response) async throws -> Response {
        guard let principal = try await authenticator.principal(of: request, context: context) else {
            throw ClientError.unauthorized("sign in, or send Authorization: Bearer <API key>")
        }
        guard principal.may(scope) else {
            if scope == .admin && principal.user.role != .admin {
                throw ClientError.forbidden("this needs an administrator")
            }
            throw ClientError.forbidden("this API key lacks the '\(scope.rawValue)' scope")
        }
        if let expected = principal.csrfToken, !Self.isSafe(request.method) {
            let presented = request.headers.value(of: Self.csrfHeader) ?? ""
            guard Credentials.constantTimeEqual(Array(presented.utf8), Array(expected.utf8)) else {
                throw ClientError(.forbidden, type: "csrf_failed",
                                  message: "missing or wrong X-CSRF-Token for this session; reload the page")
            }
        }
        var context = context
        context.signIn(principal, streams: authenticator.streams)
        return try await next(request, context)
    }

    static func isSafe(_ method: HTTPRequest.Method) -> Bool {
        method == .get || method == .head || method == .options
    }
}
