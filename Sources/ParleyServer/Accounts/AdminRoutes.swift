import Foundation
import HTTPTypes
import Hummingbird
import ParleyAccounts
import ParleyCore

/// `/api/v1/admin/users`: administrators list and search users, add them, approve, change roles and budgets,
/// disable and delete them (with their data), and see what each spends. Administrators manage accounts; they do
/// not read other people's chats.
struct AdminRoutes {
    static let maxPageSize = 200

    let accounts: Accounts
    let accounting: CallAccounting
    let bodyLimit: Int

    func register(on group: some RouterMethods<ParleyRequestContext>) {
        group.get("users", use: list)
        group.post("users", use: create)
        group.patch("users/:id", use: update)
        group.delete("users/:id", use: delete)
        group.get("audit", use: auditLog)
        group.post("users/:id/password-reset", use: passwordReset)
        group.get("users/:id/usage", use: userUsage)
        group.get("usage", use: usage)
    }

    /// Each user's totals over the last `days` days (30 unless given), most tokens first.
    @Sendable func usage(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let query = Query(request)
        let days = try query.integer("days", in: 1...400) ?? 30
        let limit = try query.integer("limit", in: 1...Self.maxPageSize) ?? 100
        let rows = try await accounts.store.usageByUser(from: UsageRecord.day(of: Date().addingTimeInterval(-Double(days - 1) * 86_400)),
                                                        limit: limit)
        return try Response.json(API.List(data: rows.map(API.UserUsage.init)))
    }

    /// One user's usage, as they see it themselves.
    @Sendable func userUsage(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try Self.userID(context)
        let days = try Query(request).integer("days", in: 1...400) ?? 30
        guard let user = try await accounts.store.user(id: id) else { throw ClientError.notFound("no user with id \(id)") }
        return try Response.json(try await accounting.report(for: user, days: days))
    }

    /// A one-time link (valid a day) with which the user sets a new password; for the administrator to hand over.
    @Sendable func passwordReset(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let admin = try AccountRoutes.principal(context).user
        let token = try await accounts.issuePasswordReset(for: try Self.userID(context), by: admin)
        return try Response.json(["reset_path": "/#reset=" + token], status: .created)
    }

    /// Security events, newest first: `user` (an id) narrows to one account, `before` (an ISO 8601 time from a
    /// previous page's last event) pages back.
    @Sendable func auditLog(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let query = Query(request)
        let limit = try query.integer("limit", in: 1...Self.maxPageSize) ?? 100
        var before: Date?
        if let text = try query.string("before", maxLength: 40) {
            let parser = ISO8601DateFormatter()
            parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            guard let date = parser.date(from: text) else { throw ClientError.invalid("'before' must be an ISO 8601 time", param: "before") }
            before = date
        }
        var user: UserID?
        if let text = try query.string("user", maxLength: 64) {
            guard let id = UUID(text: text) else { throw ClientError.invalid("'user' must be a user id", param: "user") }
            user = UserID(id.lowercased)
        }
        let events = try await accounts.store.auditEvents(userID: user, before: before, limit: limit)
        return try Response.json(API.List(data: events.map(API.Audit.init)))
    }

    @Sendable func list(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let query = Query(request)
        let limit = try query.integer("limit", in: 1...Self.maxPageSize) ?? 50
        let offset = try query.integer("offset", in: 0...1_000_000) ?? 0
        let search = try query.string("q", maxLength: 200)
        let users = try await accounts.store.users(search: search, limit: limit, offset: offset)
        return try Response.json(API.List(data: users.map(API.Account.init)))
    }

    @Sendable func create(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        var request = request
        let body = try await request.decodeJSON(API.NewUser.self, limit: bodyLimit)
        let role = try Self.role(body.role ?? "user")
        let user = try await accounts.createUser(email: body.email, password: body.password, name: body.name ?? "", role: role,
                                                by: try AccountRoutes.principal(context).user.id)
        return try Response.json(API.Account(user), status: .created)
    }

    @Sendable func update(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let admin = try AccountRoutes.principal(context).user
        let id = try Self.userID(context)
        var request = request
        let body = try await request.decodeJSON(API.UserPatch.self, limit: bodyLimit)
        // Each change answers the user as it left them; with no change, the user as they are.
        var user: User?
        if let role = body.role { user = try await accounts.setRole(of: id, to: try Self.role(role), by: admin) }
        if let name = body.name { user = try await accounts.rename(id, to: name) }
        if let budget = body.tokenBudget {
            user = try await accounts.setTokenBudget(of: id, to: try TokenBudgets.validated(budget), by: admin)
        }
        if body.role == nil && body.name == nil && body.tokenBudget == nil { user = try await accounts.store.user(id: id) }
        guard let user else { throw ClientError.notFound("no user with id \(id)") }
        return try Response.json(API.Account(user))
    }

    @Sendable func delete(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let admin = try AccountRoutes.principal(context).user
        let id = try Self.userID(context)
        guard id != admin.id else { throw ClientError.forbidden("administrators cannot delete their own account") }
        guard try await accounts.deleteUser(id, by: admin.id) else { throw ClientError.notFound("no user with id \(id)") }
        return Response(status: .noContent)
    }

    static func role(_ text: String) throws -> AccountRole {
        guard let role = AccountRole(rawValue: text) else {
            throw ClientError.invalid("'role' must be admin, user, pending or disabled", param: "role")
        }
        return role
    }

    static func userID(_ context: ParleyRequestContext) throws -> UserID {
        UserID(try context.uuid("id", kind: "user").lowercased)
    }
}
