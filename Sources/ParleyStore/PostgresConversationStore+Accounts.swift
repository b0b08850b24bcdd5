import Foundation
import ParleyAccounts
import ParleyCore
import PostgresNIO

/// Accounts, sessions and API keys in the same PostgreSQL database as the conversations, so every replica
/// sees the same sessions.
extension PostgresConversationStore: AccountStore {
    static let userColumns = "u.id, u.email, u.name, u.role, u.password_hash, u.created_at, u.updated_at, u.totp_secret, u.recovery_codes, u.token_budget"
    static let sessionColumns = """
        s.id AS s_id, s.user_id AS s_user_id, s.token_hash, s.csrf_token, s.created_at AS s_created_at, \
        s.last_seen_at, s.expires_at, s.user_agent, s.address
        """
    static let keyColumns = """
        k.id AS k_id, k.user_id AS k_user_id, k.name AS k_name, k.prefix, k.key_hash, k.scopes, \
        k.created_at AS k_created_at, k.expires_at AS k_expires_at, k.last_used_at, k.token_budget AS k_token_budget
        """

    public func userCount() async throws -> Int {
        let rows = try await perform { try await client.query("SELECT count(*)::BIGINT FROM users", logger: logger).collect() }
        return Int(try rows.first?.decode(Int64.self) ?? 0)
    }

    public func createUser(_ user: User, asFirstUser: Bool) async throws {
        try await perform {
            try await client.withTransaction(logger: logger) { connection in
                if asFirstUser {
                    // Serialises concurrent first sign-ups: only one finds the table empty.
                    try await connection.query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE", logger: logger)
                    let count = try await connection.query("SELECT count(*)::BIGINT FROM users", logger: logger).collect()
                    if try count.first?.decode(Int64.self) ?? 0 > 0 { throw AccountError.alreadySetUp }
                }
                let inserted = try await connection.query("""
                    INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at)
                    VALUES (\(user.id.rawValue), \(user.email), \(user.name), \(user.role.rawValue), \(user.passwordHash),
                            \(user.createdAt.millis), \(user.updatedAt.millis))
                    ON CONFLICT (email) DO NOTHING RETURNING id
                    """, logger: logger).collect()
                guard !inserted.isEmpty else { throw AccountError.emailTaken }
                if asFirstUser {
                    // Everything stored before accounts existed belongs to the first administrator.
                    try await connection.query(
                        "UPDATE conversations SET owner_id = \(user.id.rawValue) WHERE owner_id = \(UserID.local.rawValue)",
                        logger: logger)
                    try await connection.query(
                        "UPDATE feedback SET user_id = \(user.id.rawValue) WHERE user_id = \(UserID.local.rawValue)",
                        logger: logger)
                    try await connection.query(
                        "UPDATE kb_bases SET owner_id = \(user.id.rawValue) WHERE owner_id = \(UserID.local.rawValue)",
                        logger: logger)
                }
            }
        }
    }

    public func user(id: UserID) async throws -> User? {
        let rows = try await perform {
            try await client.query("SELECT \(unescaped: Self.userColumns) FROM users u WHERE u.id = \(id.rawValue)",
                                   logger: logger).collect()
        }
        return try rows.first.map(Self.user(from:))
    }

    public func user(email: String) async throws -> User? {
        let rows = try await perform {
            try await client.query("SELECT \(unescaped: Self.userColumns) FROM users u WHERE u.email = \(email)",
                                   logger: logger).collect()
        }
        return try rows.first.map(Self.user(from:))
    }

    public func users(search: String?, limit: Int, offset: Int) async throws -> [User] {
        let pattern = search.flatMap { $0.isEmpty ? nil : "%" + StoreText.escapeLike($0) + "%" }
        let rows = try await perform {
            try await client.query("""
                SELECT \(unescaped: Self.userColumns) FROM users u
                WHERE \(pattern)::TEXT IS NULL OR u.email ILIKE \(pattern) ESCAPE '\\' OR u.name ILIKE \(pattern) ESCAPE '\\'
                ORDER BY u.created_at, u.id LIMIT \(limit) OFFSET \(offset)
                """, logger: logger).collect()
        }
        return try rows.map(Self.user(from:))
    }

    public func updateUser(_ user: User) async throws -> Bool {
        let rows = try await perform {
            try await client.query("""
                UPDATE users SET name = \(user.name), role = \(user.role.rawValue), password_hash = \(user.passwordHash),
                       updated_at = \(user.updatedAt.millis), totp_secret = \(user.totpSecret),
                       recovery_codes = \(user.recoveryCodes.joined(separator: " ")), token_budget = \(user.tokenBudget)
                WHERE id = \(user.id.rawValue) RETURNING id
                """, logger: logger).collect()
        }
        return !rows.isEmpty
    }

    public func claimSecondFactorStep(userID: UserID, step: Int) async throws -> Bool {
        let rows = try await perform {
            try await client.query("""
                UPDATE users SET totp_last_step = \(step)
                WHERE id = \(userID.rawValue) AND (totp_last_step IS NULL OR totp_last_step < \(step)) RETURNING id
                """, logger: logger).collect()
        }
        return !rows.isEmpty
    }

    public func replaceRecoveryCodes(userID: UserID, from old: [String], to new: [String]) async throws -> Bool {
        let (oldText, newText, now) = (old.joined(separator: " "), new.joined(separator: " "), Date().millis)
        let rows = try await perform {
            try await client.query("""
                UPDATE users SET recovery_codes = \(newText), updated_at = \(now)
                WHERE id = \(userID.rawValue) AND recovery_codes = \(oldText) RETURNING id
                """, logger: logger).collect()
        }
        return !rows.isEmpty
    }

    public func deleteUser(id: UserID) async throws -> Bool {
        try await perform {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("DELETE FROM feedback WHERE user_id = \(id.rawValue)", logger: logger)
                try await connection.query("DELETE FROM conversations WHERE owner_id = \(id.rawValue)", logger: logger)
                try await connection.query("DELETE FROM kb_bases WHERE owner_id = \(id.rawValue)", logger: logger)
                try await connection.query("DELETE FROM kb_readers WHERE user_id = \(id.rawValue)", logger: logger)
                try await connection.query("DELETE FROM assistants WHERE owner_id = \(id.rawValue)", logger: logger)
                try await connection.query("DELETE FROM prompts WHERE owner_id = \(id.rawValue)", logger: logger)
                try await connection.query("DELETE FROM attachments WHERE owner_id = \(id.rawValue)", logger: logger)
                let rows = try await connection.query("DELETE FROM users WHERE id = \(id.rawValue) RETURNING id",
                                                      logger: logger).collect()
                return !rows.isEmpty
            }
        }
    }

    // MARK: Sessions

    public func createSession(_ session: SessionRecord) async throws {
        try await perform {
            try await client.query("""
                INSERT INTO sessions (id, user_id, token_hash, csrf_token, created_at, last_seen_at, expires_at, user_agent, address)
                VALUES (\(session.id), \(session.userID.rawValue), \(session.tokenHash), \(session.csrfToken),
                        \(session.createdAt.millis), \(session.lastSeenAt.millis), \(session.expiresAt.millis),
                        \(session.userAgent), \(session.address))
                """, logger: logger)
        }
    }

    public func session(tokenHash: String) async throws -> (SessionRecord, User)? {
        let rows = try await perform {
            try await client.query("""
                SELECT \(unescaped: Self.sessionColumns), \(unescaped: Self.userColumns)
                FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = \(tokenHash)
                """, logger: logger).collect()
        }
        guard let row = rows.first else { return nil }
        return (try Self.session(from: row), try Self.user(from: row))
    }

    public func touchSession(id: UUID, at date: Date) async throws {
        try await perform {
            try await client.query("UPDATE sessions SET last_seen_at = \(date.millis) WHERE id = \(id)", logger: logger)
        }
    }

    public func sessions(userID: UserID) async throws -> [SessionRecord] {
        let rows = try await perform {
            try await client.query("""
                SELECT \(unescaped: Self.sessionColumns) FROM sessions s WHERE s.user_id = \(userID.rawValue)
                ORDER BY s.created_at DESC, s.id DESC
                """, logger: logger).collect()
        }
        return try rows.map(Self.session(from:))
    }

    public func deleteSession(id: UUID, userID: UserID) async throws -> Bool {
        let rows = try await perform {
            try await client.query("DELETE FROM sessions WHERE id = \(id) AND user_id = \(userID.rawValue) RETURNING id",
                                   logger: logger).collect()
        }
        return !rows.isEmpty
    }

    public func deleteSessions(userID: UserID, except: UUID?) async throws {
        try await perform {
            try await client.query("""
                DELETE FROM sessions WHERE user_id = \(userID.rawValue) AND id IS DISTINCT FROM \(except)
                """, logger: logger)
        }
    }

    public func deleteExpiredSessions(now: Date, idleSince: Date) async throws -> Int {
        let rows = try await perform {
            try await client.query("""
                DELETE FROM sessions WHERE expires_at <= \(now.millis) OR last_seen_at <= \(idleSince.millis) RETURNING id
                """, logger: logger).collect()
        }
        return rows.count
    }

    // MARK: Password resets

    public func createPasswordReset(tokenHash: String, userID: UserID, expiresAt: Date) async throws {
        try await perform {
            try await client.query("""
                INSERT INTO password_resets (user_id, token_hash, expires_at)
                VALUES (\(userID.rawValue), \(tokenHash), \(expiresAt.millis))
                ON CONFLICT (user_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, expires_at = EXCLUDED.expires_at
                """, logger: logger)
        }
    }

    public func consumePasswordReset(tokenHash: String, now: Date) async throws -> UserID? {
        let rows = try await perform {
            try await client.query("DELETE FROM password_resets WHERE token_hash = \(tokenHash) RETURNING user_id, expires_at",
                                   logger: logger).collect()
        }
        guard let row = rows.first else { return nil }
        let (user, expires) = try row.decode((String, Int64).self)
        return expires > now.millis ? UserID(user) : nil
    }

    // MARK: API keys

    public func createKey(_ key: APIKeyRecord) async throws {
        try await perform {
            try await client.query("""
                INSERT INTO api_keys (id, user_id, name, prefix, key_hash, scopes, created_at, expires_at, last_used_at,
                                      token_budget)
                VALUES (\(key.id), \(key.userID.rawValue), \(key.name), \(key.prefix), \(key.keyHash),
                        \(KeyScope.encode(key.scopes)), \(key.createdAt.millis), \(key.expiresAt?.millis),
                        \(key.lastUsedAt?.millis), \(key.tokenBudget))
                """, logger: logger)
        }
    }

    public func key(hash: String) async throws -> (APIKeyRecord, User)? {
        let rows = try await perform {
            try await client.query("""
                SELECT \(unescaped: Self.keyColumns), \(unescaped: Self.userColumns)
                FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = \(hash)
                """, logger: logger).collect()
        }
        guard let row = rows.first else { return nil }
        return (try Self.key(from: row), try Self.user(from: row))
    }

    public func keys(userID: UserID) async throws -> [APIKeyRecord] {
        let rows = try await perform {
            try await client.query("""
                SELECT \(unescaped: Self.keyColumns) FROM api_keys k WHERE k.user_id = \(userID.rawValue)
                ORDER BY k.created_at DESC, k.id DESC
                """, logger: logger).collect()
        }
        return try rows.map(Self.key(from:))
    }

    public func deleteKey(id: UUID, userID: UserID) async throws -> Bool {
        let rows = try await perform {
            try await client.query("DELETE FROM api_keys WHERE id = \(id) AND user_id = \(userID.rawValue) RETURNING id",
                                   logger: logger).collect()
        }
        return !rows.isEmpty
    }

    public func touchKey(id: UUID, at date: Date) async throws {
        try await perform {
            try await client.query("UPDATE api_keys SET last_used_at = \(date.millis) WHERE id = \(id)", logger: logger)
        }
    }

    // MARK: Audit

    public func recordAudit(_ event: AuditEvent) async throws {
        try await perform {
            try await client.query("""
                INSERT INTO audit_events (id, at, kind, user_id, actor_id, detail, address)
                VALUES (\(event.id), \(event.at.millis), \(event.kind.rawValue), \(event.userID?.rawValue),
                        \(event.actorID?.rawValue), \(event.detail), \(event.address))
                """, logger: logger)
        }
    }

    public func auditEvents(userID: UserID?, before: Date?, limit: Int) async throws -> [AuditEvent] {
        let rows = try await perform {
            try await client.query("""
                SELECT id, at, kind, user_id, actor_id, detail, address FROM audit_events
                WHERE at < \(before?.millis ?? Int64.max) AND (\(userID?.rawValue)::TEXT IS NULL OR user_id = \(userID?.rawValue))
                ORDER BY at DESC, id DESC LIMIT \(limit)
                """, logger: logger).collect()
        }
        return try rows.map { row in
            let columns = row.makeRandomAccess()
            let kindText = try columns["kind"].decode(String.self)
            guard let kind = AuditEvent.Kind(rawValue: kindText) else { throw StoreError.corrupt("bad audit kind \(kindText)") }
            return AuditEvent(id: try columns["id"].decode(UUID.self), at: Date(millis: try columns["at"].decode(Int64.self)),
                              kind: kind, userID: try columns["user_id"].decode(String?.self).map(UserID.init),
                              actorID: try columns["actor_id"].decode(String?.self).map(UserID.init),
                              detail: try columns["detail"].decode(String.self), address: try columns["address"].decode(String.self))
        }
    }

    public func deleteAuditEvents(before cutoff: Date) async throws -> Int {
        let rows = try await perform {
            try await client.query("DELETE FROM audit_events WHERE at < \(cutoff.millis) RETURNING id", logger: logger).collect()
        }
        return rows.count
    }

    // MARK: Usage

    public func addUsage(_ records: [UsageRecord]) async throws {
        guard !records.isEmpty else { return }
        // One statement for the whole batch: the rows as parallel arrays, summed per key first (a batch may
        // repeat one), users that no longer exist skipped.
        var merged: [String: UsageRecord] = [:]
        for record in records {
            let id = [record.userID.rawValue, record.day, record.keyID?.lowercased ?? "", record.model].joined(separator: "\u{1}")
            if var existing = merged[id] {
                existing.requests += record.requests
                existing.promptTokens += record.promptTokens
                existing.completionTokens += record.completionTokens
                merged[id] = existing
            } else {
                merged[id] = record
            }
        }
        let rows = Array(merged.values)
        let users = rows.map(\.userID.rawValue), days = rows.map(\.day), keys = rows.map { $0.keyID?.lowercased ?? "" }
        let models = rows.map(\.model), requests = rows.map { Int64($0.requests) }
        let prompts = rows.map { Int64($0.promptTokens) }, completions = rows.map { Int64($0.completionTokens) }
        try await perform {
            try await client.query("""
                INSERT INTO usage_daily (user_id, day, key_id, model, requests, prompt_tokens, completion_tokens)
                SELECT r.* FROM unnest(\(users)::TEXT[], \(days)::TEXT[], \(keys)::TEXT[], \(models)::TEXT[],
                                       \(requests)::BIGINT[], \(prompts)::BIGINT[], \(completions)::BIGINT[])
                    AS r (user_id, day, key_id, model, requests, prompt_tokens, completion_tokens)
                WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = r.user_id)
                ON CONFLICT (user_id, day, key_id, model) DO UPDATE SET
                    requests = usage_daily.requests + excluded.requests,
                    prompt_tokens = usage_daily.prompt_tokens + excluded.prompt_tokens,
                    completion_tokens = usage_daily.completion_tokens + excluded.completion_tokens
                """, logger: logger)
        }
    }

    public func usage(userID: UserID, from firstDay: String) async throws -> [UsageRecord] {
        let rows = try await perform {
            try await client.query("""
                SELECT user_id, day, key_id, model, requests, prompt_tokens, completion_tokens FROM usage_daily
                WHERE user_id = \(userID.rawValue) AND day >= \(firstDay) ORDER BY day DESC, key_id, model
                """, logger: logger).collect()
        }
        return try rows.map(Self.usage(from:))
    }

    public func spentTokens(userID: UserID, keyID: UUID?, from firstDay: String) async throws -> Int {
        let key = keyID?.lowercased
        let rows = try await perform {
            try await client.query("""
                SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0)::BIGINT FROM usage_daily
                WHERE user_id = \(userID.rawValue) AND day >= \(firstDay) AND (\(key)::TEXT IS NULL OR key_id = \(key))
                """, logger: logger).collect()
        }
        return Int(try rows.first?.decode(Int64.self) ?? 0)
    }

    public func usageByUser(from firstDay: String, limit: Int) async throws -> [UsageRecord] {
        let rows = try await perform {
            try await client.query("""
                SELECT user_id, '' AS day, '' AS key_id, '' AS model, SUM(requests)::BIGINT AS requests,
                       SUM(prompt_tokens)::BIGINT AS prompt_tokens, SUM(completion_tokens)::BIGINT AS completion_tokens
                FROM usage_daily WHERE day >= \(firstDay) GROUP BY user_id
                ORDER BY SUM(prompt_tokens + completion_tokens) DESC, user_id LIMIT \(limit)
                """, logger: logger).collect()
        }
        return try rows.map(Self.usage(from:))
    }

    public func deleteUsage(before day: String) async throws -> Int {
        let rows = try await perform {
            try await client.query("DELETE FROM usage_daily WHERE day < \(day) RETURNING 1", logger: logger).collect()
        }
        return rows.count
    }

    // MARK: Rows

    static func usage(from row: PostgresRow) throws -> UsageRecord {
        let (user, day, key, model, requests, prompt, completion) = try row.decode((String, String, String, String, Int64, Int64, Int64).self)
        return UsageRecord(day: day, userID: UserID(user), keyID: key.isEmpty ? nil : UUID(uuidString: key), model: model,
                           requests: Int(requests), promptTokens: Int(prompt), completionTokens: Int(completion))
    }

    static func user(from row: PostgresRow) throws -> User {
        let columns = row.makeRandomAccess()
        let roleText = try columns["role"].decode(String.self)
        guard let role = AccountRole(rawValue: roleText) else { throw StoreError.corrupt("bad role \(roleText)") }
        return User(id: UserID(try columns["id"].decode(String.self)), email: try columns["email"].decode(String.self),
                    name: try columns["name"].decode(String.self), role: role,
                    passwordHash: try columns["password_hash"].decode(String?.self),
                    createdAt: Date(millis: try columns["created_at"].decode(Int64.self)),
                    updatedAt: Date(millis: try columns["updated_at"].decode(Int64.self)),
                    totpSecret: try columns["totp_secret"].decode(String?.self),
                    recoveryCodes: try columns["recovery_codes"].decode(String.self).split(separator: " ").map(String.init),
                    tokenBudget: try columns["token_budget"].decode(Int64?.self).map(Int.init))
    }

    static func session(from row: PostgresRow) throws -> SessionRecord {
        let columns = row.makeRandomAccess()
        return SessionRecord(
            id: try columns["s_id"].decode(UUID.self), userID: UserID(try columns["s_user_id"].decode(String.self)),
            tokenHash: try columns["token_hash"].decode(String.self), csrfToken: try columns["csrf_token"].decode(String.self),
            createdAt: Date(millis: try columns["s_created_at"].decode(Int64.self)),
            lastSeenAt: Date(millis: try columns["last_seen_at"].decode(Int64.self)),
            expiresAt: Date(millis: try columns["expires_at"].decode(Int64.self)),
            userAgent: try columns["user_agent"].decode(String.self), address: try columns["address"].decode(String.self))
    }

    static func key(from row: PostgresRow) throws -> APIKeyRecord {
        let columns = row.makeRandomAccess()
        return APIKeyRecord(
            id: try columns["k_id"].decode(UUID.self), userID: UserID(try columns["k_user_id"].decode(String.self)),
            name: try columns["k_name"].decode(String.self), prefix: try columns["prefix"].decode(String.self),
            keyHash: try columns["key_hash"].decode(String.self),
            scopes: KeyScope.parse(try columns["scopes"].decode(String.self)) ?? [],
            createdAt: Date(millis: try columns["k_created_at"].decode(Int64.self)),
            expiresAt: try columns["k_expires_at"].decode(Int64?.self).map(Date.init(millis:)),
            lastUsedAt: try columns["last_used_at"].decode(Int64?.self).map(Date.init(millis:)),
            tokenBudget: try columns["k_token_budget"].decode(Int64?.self).map(Int.init))
    }
}
