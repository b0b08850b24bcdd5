import Foundation
import Logging
import ParleyAccounts
import ParleyCore
import ParleyStore

/// What `parley users` and `parley keys` do: account work straight on the configured database, for the shell
/// (the first administrator of a server nobody has opened yet, a key for a script).
public enum AccountCommands {
    /// Creates a user; with `admin` on a database without users it is the first administrator and receives the
    /// data stored before accounts existed. Returns the new user's id.
    public static func createUser(config: ParleyConfig, logger: Logger, email: String, password: String, name: String,
                                  admin: Bool) async throws -> String {
        try await withAccounts(config: config, logger: logger) { accounts in
            if admin, try await accounts.needsSetUp() {
                let (user, _) = try await accounts.setUp(email: email, password: password, name: name,
                                                         client: ClientInfo(userAgent: "parley users create", address: "shell"))
                return user.id.rawValue
            }
            return try await accounts.createUser(email: email, password: password, name: name, role: admin ? .admin : .user).id.rawValue
        }
    }

    /// A new API key for the user with this email; the key is returned this once.
    public static func createKey(config: ParleyConfig, logger: Logger, email: String, name: String, scopes: String,
                                 expiresInDays: Int?) async throws -> String {
        guard let parsed = KeyScope.parse(scopes) else {
            throw AccountError.invalid("--scopes must list some of chat, gateway, admin, got '\(scopes)'")
        }
        return try await withAccounts(config: config, logger: logger) { accounts in
            guard let address = User.normalizedEmail(email), let user = try await accounts.store.user(email: address) else {
                throw AccountError.invalid("no user with email \(email)")
            }
            let expiry = expiresInDays.map { Date().addingTimeInterval(Double($0) * 86_400) }
            return try await accounts.createKey(for: user, name: name, scopes: parsed, expiresAt: expiry).secret
        }
    }

    /// Opens and migrates the database, runs `body` with its accounts, and closes it.
    static func withAccounts<T: Sendable>(config: ParleyConfig, logger: Logger,
                                          _ body: @Sendable (Accounts) async throws -> T) async throws -> T {
        let hasher = PasswordHasher(parameters: config.passwordHash, maxConcurrent: 1)
        switch try config.database() {
        case .sqlite(let path):
            let store = try SQLiteConversationStore(path: path)
            try await ParleyApplication.migrateWhenReachable(store, wait: config.databaseStartupWait, logger: logger)
            return try await body(Accounts(store: store, hasher: hasher, settings: config.accounts, logger: logger))
        case .postgres(let url):
            let store = PostgresConversationStore(configuration: try PostgresConversationStore.configuration(url: url), logger: logger)
            let pool = await store.startPool()
            defer { pool.cancel() }
            try await ParleyApplication.migrateWhenReachable(store, wait: config.databaseStartupWait, logger: logger)
            return try await body(Accounts(store: store, hasher: hasher, settings: config.accounts, logger: logger))
        }
    }
}
