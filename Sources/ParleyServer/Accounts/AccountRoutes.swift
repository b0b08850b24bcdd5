import Foundation
import HTTPTypes
import Hummingbird
import ParleyAccounts
import ParleyCore

/// `/api/v1/account`: the signed-in user's own account — profile, password, sessions, API keys and usage.
/// Changing the password or minting keys takes a session: a key cannot make more keys.
struct AccountRoutes {
    let authenticator: Authenticator
    var accounts: Accounts { authenticator.accounts }
    let accounting: CallAccounting
    let cookie: SessionCookie
    let bodyLimit: Int

    func register(on group: some RouterMethods<ParleyRequestContext>) {
        group.get(use: me)
        group.post("password", use: changePassword)
        group.get("sessions", use: sessions)
        group.delete("sessions/:id", use: endSession)
        group.get("keys", use: keys)
        group.post("keys", use: createKey)
        group.delete("keys/:id", use: deleteKey)
        group.post("totp", use: newSecondFactor)
        group.post("totp/enable", use: enableSecondFactor)
        group.post("totp/disable", use: disableSecondFactor)
        group.get("usage", use: usage)
    }

    /// The last `days` days of tokens per day, model and key (30 unless given, at most 400), and this period's budget.
    @Sendable func usage(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let days = try Query(request).integer("days", in: 1...400) ?? 30
        return try Response.json(try await accounting.report(for: try Self.principal(context).user, days: days))
    }

    /// A secret for the authenticator app (scanned from the `otpauth://` address, or typed), not active yet.
    @Sendable func newSecondFactor(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let principal = try Self.sessionPrincipal(context)
        let (secret, url) = accounts.newSecondFactor(for: principal.user)
        return try Response.json(API.NewSecondFactor(secret: secret, otpauthURL: url))
    }

    /// Turns the second factor on with a code the app made from the secret; answers the recovery codes, once.
    @Sendable func enableSecondFactor(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let principal = try Self.sessionPrincipal(context)
        var request = request
        let body = try await request.decodeJSON(API.SecondFactorConfirmation.self, limit: bodyLimit)
        let codes = try await accounts.enableSecondFactor(for: principal, secret: body.secret, code: body.code)
        return try Response.json(API.RecoveryCodes(recoveryCodes: codes))
    }

    @Sendable func disableSecondFactor(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let principal = try Self.sessionPrincipal(context)
        var request = request
        let body = try await request.decodeJSON(API.PasswordConfirmation.self, limit: bodyLimit)
        try await accounts.disableSecondFactor(for: principal, password: body.password)
        return Response(status: .noContent)
    }

    @Sendable func me(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        try Response.json(API.Account(try Self.principal(context).user))
    }

    @Sendable func changePassword(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let principal = try Self.sessionPrincipal(context)
        var request = request
        let body = try await request.decodeJSON(API.PasswordChange.self, limit: bodyLimit)
        let session = try await accounts.changePassword(of: principal, current: body.currentPassword, new: body.newPassword,
                                                        client: authenticator.client(request, context))
        var response = try Response.json(API.AuthState(setupRequired: false, signup: accounts.settings.signUp.rawValue,
                                                       user: API.Account(principal.user), csrfToken: session.record.csrfToken))
        response.headers[.setCookie] = cookie.setting(session.token)
        return response
    }

    @Sendable func sessions(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        var currentID: UUID?
        if case .session(let session) = principal.credential { currentID = session.id }
        let list = try await accounts.store.sessions(userID: principal.user.id)
        return try Response.json(API.List(data: list.map { API.Session($0, current: $0.id == currentID) }))
    }

    @Sendable func endSession(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let id = try context.uuid("id", kind: "session")
        guard try await accounts.endSession(id: id, of: principal.user.id) else {
            throw ClientError.notFound("no session with id \(id.lowercased)")
        }
        return Response(status: .noContent)
    }

    @Sendable func keys(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let list = try await accounts.store.keys(userID: try Self.principal(context).user.id)
        return try Response.json(API.List(data: list.map { API.Key($0) }))
    }

    @Sendable func createKey(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let principal = try Self.sessionPrincipal(context)
        var request = request
        let body = try await request.decodeJSON(API.NewKey.self, limit: bodyLimit)
        let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100 else { throw ClientError.invalid("'name' must have 1 to 100 characters", param: "name") }
        var scopes: Set<KeyScope> = [.chat, .gateway]
        if let names = body.scopes {
            guard let parsed = KeyScope.parse(names.joined(separator: ",")), names.count <= 3 else {
                throw ClientError.invalid("'scopes' must list some of: chat, gateway, admin", param: "scopes")
            }
            scopes = parsed
        }
        var expiry: Date?
        if let days = body.expiresInDays {
            guard (1...3650).contains(days) else {
                throw ClientError.invalid("'expires_in_days' must be from 1 to 3650", param: "expires_in_days")
            }
            expiry = Date().addingTimeInterval(Double(days) * 86_400)
        }
        let budget = try TokenBudgets.validated(body.tokenBudget)
        let (record, secret) = try await accounts.createKey(for: principal.user, name: name, scopes: scopes, expiresAt: expiry,
                                                            tokenBudget: budget)
        return try Response.json(API.Key(record, secret: secret), status: .created)
    }

    @Sendable func deleteKey(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let id = try context.uuid("id", kind: "API key")
        guard try await accounts.deleteKey(id: id, of: principal.user.id) else {
            throw ClientError.notFound("no API key with id \(id.lowercased)")
        }
        return Response(status: .noContent)
    }

    static func principal(_ context: ParleyRequestContext) throws -> Principal {
        guard let principal = context.account else { throw ClientError.unauthorized("sign in first") }
        return principal
    }

    static func sessionPrincipal(_ context: ParleyRequestContext) throws -> Principal {
        let principal = try principal(context)
        guard case .session = principal.credential else {
            throw ClientError.forbidden("this needs a signed-in browser session, not an API key")
        }
        return principal
    }
}
