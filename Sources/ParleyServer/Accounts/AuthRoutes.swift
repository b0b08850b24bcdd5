import Foundation
import HTTPTypes
import Hummingbird
import ParleyAccounts
import ParleyCore

/// `/api/v1/auth`: what the UI asks before anything else (`session`), the first-run administrator (`setup`),
/// sign-up, sign-in, sign-out, and a new password from a reset link (`reset`). These are the only API routes
/// open without an account.
struct AuthRoutes {
    let authenticator: Authenticator
    var accounts: Accounts { authenticator.accounts }
    let throttle: LoginThrottle
    let cookie: SessionCookie
    let bodyLimit: Int
    /// The single sign-on button's words, when an OpenID Connect provider is set up.
    let singleSignOn: String?

    func register(on group: some RouterMethods<ParleyRequestContext>) {
        group.get("session", use: session)
        group.post("setup", use: setup)
        group.post("signup", use: signup)
        group.post("login", use: login)
        group.post("logout", use: logout)
        group.post("reset", use: reset)
    }

    /// A new password with the one-time token from an administrator's reset link; signs the user in.
    @Sendable func reset(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        var request = request
        let body = try await request.decodeJSON(API.PasswordReset.self, limit: bodyLimit)
        let (user, session) = try await accounts.resetPassword(token: body.token, to: body.password,
                                                                client: authenticator.client(request, context))
        return try signedIn(user, session, status: .ok)
    }

    /// Who the cookie belongs to, if anyone, and what the UI should offer. A stale cookie is cleared. Behind a
    /// trusted proxy that signs users in, the proxy's user gets a session here (and an account, as the sign-up
    /// mode allows).
    @Sendable func session(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        var user: User?
        var csrf: String?
        var clear = false
        if let token = SessionCookie.token(in: request.headers) {
            do {
                let principal = try await accounts.principal(sessionToken: token)
                if let email = authenticator.proxiedEmail(request, context), email != principal.user.email {
                    try await accounts.logOut(sessionToken: token)
                    clear = true
                } else {
                    (user, csrf) = (principal.user, principal.csrfToken)
                }
            } catch is AccountError {
                clear = true
            }
        }
        if user == nil, let email = authenticator.proxiedEmail(request, context) {
            let (proxied, session) = try await accounts.signInFromProxy(email: email, client: authenticator.client(request, context))
            return try signedIn(proxied, session, status: .ok)
        }
        var state = API.AuthState(setupRequired: user == nil ? try await accounts.needsSetUp() : false,
                                  signup: accounts.settings.signUp.rawValue, user: user.map(API.Account.init), csrfToken: csrf)
        state.singleSignOn = singleSignOn
        var response = try Response.json(state)
        if clear { response.headers[.setCookie] = cookie.clearing }
        return response
    }

    @Sendable func setup(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        var request = request
        let body = try await request.decodeJSON(API.Credentials.self, limit: bodyLimit)
        let (user, session) = try await accounts.setUp(email: body.email, password: body.password, name: body.name ?? "",
                                                       client: authenticator.client(request, context))
        return try signedIn(user, session, status: .created)
    }

    @Sendable func signup(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        var request = request
        let body = try await request.decodeJSON(API.Credentials.self, limit: bodyLimit)
        let (user, session) = try await accounts.signUp(email: body.email, password: body.password, name: body.name ?? "",
                                                        client: authenticator.client(request, context))
        guard let session else {
            // Waiting for approval: an account, no session.
            return try Response.json(API.AuthState(setupRequired: false, signup: accounts.settings.signUp.rawValue,
                                                   user: API.Account(user), csrfToken: nil), status: .accepted)
        }
        return try signedIn(user, session, status: .created)
    }

    @Sendable func login(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        var request = request
        let body = try await request.decodeJSON(API.Credentials.self, limit: bodyLimit)
        let client = authenticator.client(request, context)
        let ticket = try await throttle.admit(account: User.normalizedEmail(body.email) ?? body.email.lowercased(),
                                              address: client.address)
        let (user, session) = try await accounts.logIn(email: body.email, password: body.password, code: body.code, client: client)
        await throttle.succeeded(ticket)
        return try signedIn(user, session, status: .ok)
    }

    @Sendable func logout(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        if let token = SessionCookie.token(in: request.headers) { try await accounts.logOut(sessionToken: token) }
        return Response(status: .noContent, headers: [.setCookie: cookie.clearing, .cacheControl: "no-store"])
    }

    /// The session's cookie and the state the UI continues with.
    func signedIn(_ user: User, _ session: IssuedSession, status: HTTPResponse.Status) throws -> Response {
        var response = try Response.json(API.AuthState(setupRequired: false, signup: accounts.settings.signUp.rawValue,
                                                       user: API.Account(user), csrfToken: session.record.csrfToken),
                                         status: status)
        response.headers[.setCookie] = cookie.setting(session.token)
        return response
    }
}
