import Foundation
import GRDB
import ParleyAccounts
import ParleyCore

/// Accounts, sessions and API keys in the same SQLite file as the conversations.
extension SQLiteConversationStore: AccountStore {
    public func userCount() async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM users") ?? 0 }
    }

    public func createUser(_ user: User, asFirstUser: Bool) async throws {
        let outcome = try await write { db -> AccountError? in
            // The writer is serial, so these checks and the insert cannot interleave with another account's.
            if asFirstUser, try Int.fetchOne(db, sql: "SELECT count(*) FROM users") ?? 0 > 0 { return .alreadySetUp }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE email = ?", arguments: [user.email]) != nil {
                return .emailTaken
            }
            try db.execute(sql: """
                INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [user.id.rawValue, user.email, user.name, user.role.rawValue, user.passwordHash,
                                 user.createdAt.millis, user.updatedAt.millis])
            if asFirstUser {
                // Everything stored before accounts existed belongs to the first administrator.
                try db.execute(sql: "UPDATE conversations SET owner_id = ? WHERE owner_id = ?",
                               arguments: [user.id.rawValue, UserID.local.rawValue])
                try db.execute(sql: "UPDATE feedback SET user_id = ? WHERE user_id = ?",
                               arguments: [user.id.rawValue, UserID.local.rawValue])
                try db.execute(sql: "UPDATE kb_bases SET owner_id = ? WHERE owner_id = ?",
                               arguments: [user.id.rawValue, UserID.local.rawValue])
            }
            return nil
        }
        if let outcome { throw outcome }
    }

    public func user(id: UserID) async throws -> User? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM users WHERE id = ?"), arguments: [id.rawValue])
                .map(Self.user(from:))
        }
    }

    public func user(email: String) async throws -> User? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM users WHERE email = ?"), arguments: [email])
                .map(Self.user(from:))
        }
    }

    public func users(search: String?, limit: Int, offset: Int) async throws -> [User] {
        try await read { db in
            var sql = "SELECT * FROM users"
            var arguments: StatementArguments = []
            if let search, !search.isEmpty {
                sql += " WHERE email LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\'"
                let pattern = "%" + StoreText.escapeLike(search) + "%"
                arguments += [pattern, pattern]
            }
            sql += " ORDER BY created_at, id LIMIT ? OFFSET ?"
            arguments += [limit, offset]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.user(from:))
        }
    }

    public func updateUser(_ user: User) async throws -> Bool {
        try await write { db in
            try db.execute(sql: """
                UPDATE users SET name = ?, role = ?, password_hash = ?, updated_at = ?, totp_secret = ?, recovery_codes = ?,
                    token_budget = ?
                WHERE id = ?
                """, arguments: [user.name, user.role.rawValue, user.passwordHash, user.updatedAt.millis, user.totpSecret,
                                 user.recoveryCodes.joined(separator: " "), user.tokenBudget, user.id.rawValue])
            return db.changesCount > 0
        }
    }

    public func claimSecondFactorStep(userID: UserID, step: Int) async throws -> Bool {
        try await write { db in
            try db.execute(sql: """
                UPDATE users SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)
                """, arguments: [step, userID.rawValue, step])
            return db.changesCount > 0
        }
    }

    public func replaceRecoveryCodes(userID: UserID, from old: [String], to new: [String]) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE users SET recovery_codes = ?, updated_at = ? WHERE id = ? AND recovery_codes = ?",
                           arguments: [new.joined(separator: " "), Date().millis, userID.rawValue, old.joined(separator: " ")])
            return db.changesCount > 0
        }
    }

    public func deleteUser(id: UserID) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM feedback WHERE user_id = ?", arguments: [id.rawValue])
            try db.execute(sql: "DELETE FROM conversations WHERE owner_id = ?", arguments: [id.rawValue])
            try db.execute(sql: "DELETE FROM kb_bases WHERE owner_id = ?", arguments: [id.rawValue])
            try db.execute(sql: "DELETE FROM kb_readers WHERE user_id = ?", arguments: [id.rawValue])
            try db.execute(sql: "DELETE FROM assistants WHERE owner_id = ?", arguments: [id.rawValue])
            try db.execute(sql: "DELETE FROM prompts WHERE owner_id = ?", arguments: [id.rawValue])
            try db.execute(sql: "DELETE FROM attachments WHERE owner_id = ?", arguments: [id.rawValue])
            try db.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [id.rawValue])
            return db.changesCount > 0
        }
    }

    // MARK: Sessions

    public func createSession(_ session: SessionRecord) async throws {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO sessions (id, user_id, token_hash, csrf_token, created_at, last_seen_at, expires_at, user_agent, address)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [session.id.lowercased, session.userID.rawValue, session.tokenHash, session.csrfToken,
                                 session.createdAt.millis, session.lastSeenAt.millis, session.expiresAt.millis,
                                 session.userAgent, session.address])
        }
    }

    public func session(tokenHash: String) async throws -> (SessionRecord, User)? {
        try await read { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT s.id AS s_id, s.user_id, s.token_hash, s.csrf_token, s.created_at AS s_created_at, s.last_seen_at,
                       s.expires_at, s.user_agent, s.address, u.*
                FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?
                """), arguments: [tokenHash]) else { return nil }
            return (try Self.session(from: row, id: "s_id", createdAt: "s_created_at"), try Self.user(from: row))
        }
    }

    public func touchSession(id: UUID, at date: Date) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE sessions SET last_seen_at = ? WHERE id = ?", arguments: [date.millis, id.lowercased])
        }
    }

    public func sessions(userID: UserID) async throws -> [SessionRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM sessions WHERE user_id = ? ORDER BY created_at DESC, id DESC",
                             arguments: [userID.rawValue]).map { try Self.session(from: $0, id: "id", createdAt: "created_at") }
        }
    }

    public func deleteSession(id: UUID, userID: UserID) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE id = ? AND user_id = ?", arguments: [id.lowercased, userID.rawValue])
            return db.changesCount > 0
        }
    }

    public func deleteSessions(userID: UserID, except: UUID?) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE user_id = ? AND id IS NOT ?",
                           arguments: [userID.rawValue, except?.lowercased])
        }
    }

    public func deleteExpiredSessions(now: Date, idleSince: Date) async throws -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?",
                           arguments: [now.millis, idleSince.millis])
            return db.changesCount
        }
    }

    // MARK: Password resets

    public func createPasswordReset(tokenHash: String, userID: UserID, expiresAt: Date) async throws {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO password_resets (user_id, token_hash, expires_at) VALUES (?, ?, ?)
                ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash, expires_at = excluded.expires_at
                """, arguments: [userID.rawValue, tokenHash, expiresAt.millis])
        }
    }

    public func consumePasswordReset(tokenHash: String, now: Date) async throws -> UserID? {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "DELETE FROM password_resets WHERE token_hash = ? RETURNING user_id, expires_at",
                                             arguments: [tokenHash]) else { return nil }
            let expires: Int64 = row["expires_at"]
            return expires > now.millis ? UserID(row["user_id"]) : nil
        }
    }

    // MARK: API keys

    public func createKey(_ key: APIKeyRecord) async throws {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO api_keys (id, user_id, name, prefix, key_hash, scopes, created_at, expires_at, last_used_at,
                                      token_budget)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [key.id.lowercased, key.userID.rawValue, key.name, key.prefix, key.keyHash,
                                 KeyScope.encode(key.scopes), key.createdAt.millis, key.expiresAt?.millis,
                                 key.lastUsedAt?.millis, key.tokenBudget])
        }
    }

    public func key(hash: String) async throws -> (APIKeyRecord, User)? {
        try await read { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT k.id AS k_id, k.user_id, k.name AS k_name, k.prefix, k.key_hash, k.scopes, k.created_at AS k_created_at,
                       k.expires_at, k.last_used_at, k.token_budget AS k_token_budget, u.*
                FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = ?
                """), arguments: [hash]) else { return nil }
            return (try Self.key(from: row, id: "k_id", name: "k_name", createdAt: "k_created_at", budget: "k_token_budget"),
                    try Self.user(from: row))
        }
    }

    public func keys(userID: UserID) async throws -> [APIKeyRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_keys WHERE user_id = ? ORDER BY created_at DESC, id DESC",
                             arguments: [userID.rawValue])
                .map { try Self.key(from: $0, id: "id", name: "name", createdAt: "created_at", budget: "token_budget") }
        }
    }

    public func deleteKey(id: UUID, userID: UserID) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM api_keys WHERE id = ? AND user_id = ?", arguments: [id.lowercased, userID.rawValue])
            return db.changesCount > 0
        }
    }

    public func touchKey(id: UUID, at date: Date) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE api_keys SET last_used_at = ? WHERE id = ?", arguments: [date.millis, id.lowercased])
        }
    }

    // MARK: Audit

    public func recordAudit(_ event: AuditEvent) async throws {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO audit_events (id, at, kind, user_id, actor_id, detail, address) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [event.id.lowercased, event.at.millis, event.kind.rawValue, event.userID?.rawValue,
                                 event.actorID?.rawValue, event.detail, event.address])
        }
    }

    public func auditEvents(userID: UserID?, before: Date?, limit: Int) async throws -> [AuditEvent] {
        try await read { db in
            var sql = "SELECT * FROM audit_events WHERE at < ?"
            var arguments: StatementArguments = [before?.millis ?? Int64.max]
            if let userID {
                sql += " AND user_id = ?"
                arguments += [userID.rawValue]
            }
            sql += " ORDER BY at DESC, id DESC LIMIT ?"
            arguments += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                let kindText: String = row["kind"]
                guard let kind = AuditEvent.Kind(rawValue: kindText) else { throw StoreError.corrupt("bad audit kind \(kindText)") }
                let user: String? = row["user_id"]
                let actor: String? = row["actor_id"]
                return AuditEvent(id: try Self.uuid(row, "id"), at: Date(millis: row["at"]), kind: kind, userID: user.map(UserID.init),
                                  actorID: actor.map(UserID.init), detail: row["detail"], address: row["address"])
            }
        }
    }

    public func deleteAuditEvents(before cutoff: Date) async throws -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM audit_events WHERE at < ?", arguments: [cutoff.millis])
            return db.changesCount
        }
    }

    // MARK: Usage

    public func addUsage(_ records: [UsageRecord]) async throws {
        guard !records.isEmpty else { return }
        try await write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT INTO usage_daily (user_id, day, key_id, model, requests, prompt_tokens, completion_tokens)
                SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM users WHERE id = ?)
                ON CONFLICT (user_id, day, key_id, model) DO UPDATE SET
                    requests = requests + excluded.requests,
                    prompt_tokens = prompt_tokens + excluded.prompt_tokens,
                    completion_tokens = completion_tokens + excluded.completion_tokens
                """)
            for record in records {
                try statement.execute(arguments: [record.userID.rawValue, record.day, record.keyID?.lowercased ?? "", record.model,
                                                  record.requests, record.promptTokens, record.completionTokens,
                                                  record.userID.rawValue])
            }
        }
    }

    public func usage(userID: UserID, from firstDay: String) async throws -> [UsageRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM usage_daily WHERE user_id = ? AND day >= ? ORDER BY day DESC, key_id, model
                """, arguments: [userID.rawValue, firstDay]).map(Self.usage(from:))
        }
    }

    public func spentTokens(userID: UserID, keyID: UUID?, from firstDay: String) async throws -> Int {
        try await read { db in
            var sql = "SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0) FROM usage_daily WHERE user_id = ? AND day >= ?"
            var arguments: StatementArguments = [userID.rawValue, firstDay]
            if let keyID {
                sql += " AND key_id = ?"
                arguments += [keyID.lowercased]
            }
            return try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0
        }
    }

    public func usageByUser(from firstDay: String, limit: Int) async throws -> [UsageRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT user_id, '' AS day, '' AS key_id, '' AS model, SUM(requests) AS requests,
                       SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens
                FROM usage_daily WHERE day >= ? GROUP BY user_id
                ORDER BY SUM(prompt_tokens + completion_tokens) DESC, user_id LIMIT ?
                """, arguments: [firstDay, limit]).map(Self.usage(from:))
        }
    }

    public func deleteUsage(before day: String) async throws -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM usage_daily WHERE day < ?", arguments: [day])
            return db.changesCount
        }
    }

    // MARK: Rows

    static func usage(from row: Row) throws -> UsageRecord {
        let key: String = row["key_id"]
        return UsageRecord(day: row["day"], userID: UserID(row["user_id"]), keyID: key.isEmpty ? nil : UUID(uuidString: key),
                           model: row["model"], requests: row["requests"], promptTokens: row["prompt_tokens"],
                           completionTokens: row["completion_tokens"])
    }

    static func user(from row: Row) throws -> User {
        let roleText: String = row["role"]
        guard let role = AccountRole(rawValue: roleText) else { throw StoreError.corrupt("bad role \(roleText)") }
        let codes: String = row["recovery_codes"]
        return User(id: UserID(row["id"]), email: row["email"], name: row["name"], role: role,
                    passwordHash: row["password_hash"], createdAt: Date(millis: row["created_at"]),
                    updatedAt: Date(millis: row["updated_at"]), totpSecret: row["totp_secret"],
                    recoveryCodes: codes.split(separator: " ").map(String.init), tokenBudget: row["token_budget"])
    }

    static func session(from row: Row, id: String, createdAt: String) throws -> SessionRecord {
        SessionRecord(id: try uuid(row, id), userID: UserID(row["user_id"]), tokenHash: row["token_hash"],
                      csrfToken: row["csrf_token"], createdAt: Date(millis: row[createdAt]),
                      lastSeenAt: Date(millis: row["last_seen_at"]), expiresAt: Date(millis: row["expires_at"]),
                      userAgent: row["user_agent"], address: row["address"])
    }

    static func key(from row: Row, id: String, name: String, createdAt: String, budget: String) throws -> APIKeyRecord {
        let scopesText: String = row["scopes"]
        let expires: Int64? = row["expires_at"]
        let used: Int64? = row["last_used_at"]
        return APIKeyRecord(id: try uuid(row, id), userID: UserID(row["user_id"]), name: row[name], prefix: row["prefix"],
                            keyHash: row["key_hash"], scopes: KeyScope.parse(scopesText) ?? [], createdAt: Date(millis: row[createdAt]),
                            expiresAt: expires.map(Date.init(millis:)), lastUsedAt: used.map(Date.init(millis:)),
                            tokenBudget: row[budget])
    }
}
