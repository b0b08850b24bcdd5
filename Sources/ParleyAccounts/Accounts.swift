import Foundation
import Logging
import ParleyCore
import Synchronization

/// How accounts behave on this server.
public struct AccountSettings: Sendable {
    public var signUp: SignUpMode = .closed
    /// A session unused this long ends.
    public var sessionIdle: Duration = .seconds(7 * 86_400)
    /// A session ends this long after sign-in, however active.
    public var sessionLifetime: Duration = .seconds(30 * 86_400)
    /// Activity is written to the database at most this often per session or key.
    public var touchInterval: Duration = .seconds(60)
    /// How long a checked session or key is trusted without reading the database again: the longest a change
    /// made on another replica (a disabled user, a revoked key) takes to reach this one. Zero: read every time.
    public var credentialCacheTTL: Duration = .seconds(1)
    public var passwords = PasswordPolicy()

    public init() {}
}

/// Where a sign-in came from, kept on the session for its owner to recognise.
public struct ClientInfo: Sendable {
    public var userAgent: String
    public var address: String

    public init(userAgent: String, address: String) {
        self.userAgent = String(userAgent.prefix(256))
        self.address = String(address.prefix(64))
    }
}

/// A session just created: the token goes into the cookie once and is never stored.
public struct IssuedSession: Sendable {
    public var token: String
    public var record: SessionRecord
}

/// Who is making a request, and how they proved it.
public struct Principal: Sendable {
    public enum Credential: Sendable {
        case session(SessionRecord)
        case key(APIKeyRecord)
    }

    public var user: User
    public var credential: Credential

    /// What this request may use: a session everything its role allows; a key what its scopes say, and admin
    /// only while its owner is an admin.
    public func may(_ scope: KeyScope) -> Bool {
        if scope == .admin && user.role != .admin { return false }
        switch credential {
        case .session: return true
        case .key(let key): return key.scopes.contains(scope)
        }
    }

    /// The session's CSRF token; nil for key requests, which carry no ambient credential.
    public var csrfToken: String? {
        if case .session(let session) = credential { return session.csrfToken }
        return nil
    }
}

/// Accounts, sessions and API keys: every rule about who may sign in and what a credential is worth.
///
/// Passwords are checked by ``PasswordHasher`` off the event loops. An unknown email costs the same hash as a
/// wrong password, and both answer ``AccountError/invalidCredentials``.
public final class Accounts: Sendable {
    public let store: any AccountStore
    public let hasher: PasswordHasher
    public let settings: AccountSettings
    private let logger: Logger
    /// A hash of a random password, checked against when the email is unknown so that costs the same time;
    /// made at the first such sign-in rather than slowing start-up.
    private let decoy = Mutex<String?>(nil)

    private let cache: CredentialCache
    /// Where account changes are announced, so every replica forgets its cached credentials and closes the
    /// streams a sign-out ends (see ``forgetCachedCredentials(of:)``). Nil: this replica's cache only.
    private let bus: (any EventBus)?

    public init(store: any AccountStore, hasher: PasswordHasher, settings: AccountSettings, logger: Logger,
                bus: (any EventBus)? = nil) {
        self.store = store
        self.hasher = hasher
        self.settings = settings
        self.logger = logger
        self.bus = bus
        self.cache = CredentialCache(ttl: settings.credentialCacheTTL)
    }

    /// Forgets this replica's cached credentials of the user; called for every `account` notice.
    public func forgetCachedCredentials(of user: UserID) {
        cache.forget(user: user)
    }

    /// After a change to the user's sign-in: forgets the cached credentials here at once, and announces it so
    /// other replicas do too, and every replica closes the user's streams that `ends` covers.
    private func announce(_ user: UserID, ends: SignOutScope) async {
        cache.forget(user: user)
        await bus?.publish([.account(user, ends: ends)])
    }

    private func decoyHash() async throws -> String {
        if let hash = decoy.withLock({ $0 }) { return hash }
        let hash = try await hasher.hash(Credentials.newToken())
        return decoy.withLock { stored in
            if stored == nil { stored = hash }
            return stored!
        }
    }

    // MARK: Audit

    /// Records a security event. Best effort: a failed write is logged and never fails the operation.
    func audit(_ kind: AuditEvent.Kind, _ user: UserID?, by actor: UserID? = nil, _ detail: String = "", address: String = "") async {
        do {
            try await store.recordAudit(AuditEvent(kind: kind, userID: user, actorID: actor, detail: detail, address: address))
        } catch {
            logger.warning("could not record a security event", metadata: ["kind": "\(kind.rawValue)", "error": "\(error)"])
        }
    }

    // MARK: Accounts

    /// True until the first account exists: the UI then offers to create the administrator.
    public func needsSetUp() async throws -> Bool { try await store.userCount() == 0 }

    /// Creates the first administrator, who also receives everything stored before accounts existed.
    public func setUp(email: String, password: String, name: String, client: ClientInfo) async throws -> (User, IssuedSession) {
        let user = try await newUser(email: email, password: password, name: name, role: .admin)
        try await store.createUser(user, asFirstUser: true)
        logger.notice("administrator account created", metadata: ["user": "\(user.id)"])
        await audit(.setUp, user.id, user.email, address: client.address)
        return (user, try await startSession(for: user, client: client))
    }

    /// Self-service sign-up, as ``AccountSettings/signUp`` allows: an open server signs the user in, an
    /// approval server creates a pending account and no session.
    public func signUp(email: String, password: String, name: String, client: ClientInfo) async throws -> (User, IssuedSession?) {
        let role: AccountRole
        switch settings.signUp {
        case .closed: throw AccountError.signUpClosed
        case .approval: role = .pending
        case .open: role = .user
        }
        let user = try await newUser(email: email, password: password, name: name, role: role)
        try await store.createUser(user, asFirstUser: false)
        logger.info("account signed up", metadata: ["user": "\(user.id)", "role": "\(role.rawValue)"])
        await audit(.signedUp, user.id, "\(user.email) as \(role.rawValue)", address: client.address)
        return (user, role.isActive ? try await startSession(for: user, client: client) : nil)
    }

    /// An account made by an administrator or from the shell. Without a password the user cannot sign in
    /// with one (they would use single sign-on, or an admin sets one later).
    public func createUser(email: String, password: String?, name: String, role: AccountRole, by actor: UserID? = nil) async throws -> User {
        let user: User
        if let password {
            user = try await newUser(email: email, password: password, name: name, role: role)
        } else {
            guard let address = User.normalizedEmail(email) else { throw AccountError.invalid("not an email address: \(email)") }
            user = .new(email: address, name: Self.cleanName(name), role: role, passwordHash: nil)
        }
        try await store.createUser(user, asFirstUser: false)
        await audit(.userCreated, user.id, by: actor, "\(user.email) as \(role.rawValue)")
        return user
    }

    private func newUser(email: String, password: String, name: String, role: AccountRole) async throws -> User {
        guard let address = User.normalizedEmail(email) else { throw AccountError.invalid("not an email address: \(email)") }
        try settings.passwords.check(password, email: address)
        return .new(email: address, name: Self.cleanName(name), role: role, passwordHash: try await hasher.hash(password))
    }

    /// A display name as stored: trimmed, without control characters, at most 100 characters.
    public static func cleanName(_ name: String) -> String {
        String(name.trimmingCharacters(in: .whitespacesAndNewlines).unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }
            .prefix(100).map(Character.init))
    }

    // MARK: Signing in

    /// Signs in the user a trusted proxy vouches for (by email): an unknown email gets an account as the
    /// sign-up mode allows (the very first one becomes the administrator), with no password.
    public func signInFromProxy(email: String, client: ClientInfo) async throws -> (User, IssuedSession) {
        try await signInExternally(email: email, name: "", via: "the proxy", client: client)
    }

    /// Signs in someone whose email another system vouches for — a signing-in proxy or an OpenID Connect
    /// provider (`via` names it). An unknown email gets an account as the sign-up mode allows (the first ever
    /// becomes the administrator); a pending or disabled account is refused.
    public func signInExternally(email: String, name: String, via: String, client: ClientInfo) async throws -> (User, IssuedSession) {
        guard let address = User.normalizedEmail(email) else { throw AccountError.invalid("\(via) sent no email address") }
        let user: User
        if let known = try await store.user(email: address) {
            user = known
        } else {
            let first = try await needsSetUp()
            let role: AccountRole
            switch (first, settings.signUp) {
            case (true, _): role = .admin
            case (false, .closed): throw AccountError.signUpClosed
            case (false, .approval): role = .pending
            case (false, .open): role = .user
            }
            user = .new(email: address, name: Self.cleanName(name), role: role, passwordHash: nil)
            try await store.createUser(user, asFirstUser: first)
            logger.notice("account created at its first sign-in through \(via)", metadata: ["user": "\(user.id)", "role": "\(role.rawValue)"])
        }
        do {
            try Self.requireActive(user)
        } catch {
            await audit(.signInFailed, user.id, "through \(via): account \(user.role.rawValue)", address: client.address)
            throw error
        }
        await audit(.signedIn, user.id, "through \(via)", address: client.address)
        return (user, try await startSession(for: user, client: client))
    }

    /// Checks the password and starts a session. Unknown emails and wrong passwords cost the same hash and
    /// give the same answer; a right password on a pending or disabled account says so.
    public func logIn(email: String, password: String, code: String? = nil, client: ClientInfo) async throws -> (User, IssuedSession) {
        let address = User.normalizedEmail(email) ?? ""
        let user = address.isEmpty ? nil : try await store.user(email: address)
        let stored: String
        if let hash = user?.passwordHash { stored = hash } else { stored = try await decoyHash() }
        let verdict = try await hasher.verify(password, against: stored)
        guard var user, case .valid(let needsRehash) = verdict, user.passwordHash != nil else {
            await audit(.signInFailed, user?.id, String(address.prefix(254)), address: client.address)
            throw AccountError.invalidCredentials
        }
        switch user.role {
        case .pending, .disabled:
            await audit(.signInFailed, user.id, "account \(user.role.rawValue)", address: client.address)
            throw user.role == .pending ? AccountError.pendingApproval : AccountError.disabled
        case .admin, .user: break
        }
        if let secret = user.totpSecret {
            guard let code, !code.isEmpty else { throw AccountError.secondFactorRequired }
            if let step = SecondFactor.matchingStep(code, secret: secret) {
                // Each code signs in once: someone who saw it (over a shoulder, in a proxy's log) cannot reuse it.
                guard try await store.claimSecondFactorStep(userID: user.id, step: step) else {
                    await audit(.signInFailed, user.id, "second-factor code used again", address: client.address)
                    throw AccountError.wrongCode
                }
            } else {
                var left = user.recoveryCodes
                guard let used = left.firstIndex(of: Credentials.digest(SecondFactor.normalizedRecoveryCode(code))) else {
                    await audit(.signInFailed, user.id, "wrong second-factor code", address: client.address)
                    throw AccountError.wrongCode
                }
                left.remove(at: used)
                // Taken only if nobody took one meanwhile: two sign-ins cannot spend the same code.
                guard try await store.replaceRecoveryCodes(userID: user.id, from: user.recoveryCodes, to: left) else {
                    throw AccountError.wrongCode
                }
                user.recoveryCodes = left
                await audit(.recoveryCodeUsed, user.id, "\(left.count) left", address: client.address)
            }
        }
        if needsRehash {
            user.passwordHash = try await hasher.hash(password)
            user.updatedAt = Date()
            _ = try await store.updateUser(user)
        }
        await audit(.signedIn, user.id, address: client.address)
        return (user, try await startSession(for: user, client: client))
    }

    /// A fresh session for `user` (sign-in, sign-up, a password change): a new token every time, so a token
    /// planted before sign-in is worth nothing after it.
    public func startSession(for user: User, client: ClientInfo) async throws -> IssuedSession {
        let token = Credentials.newToken()
        let now = Date()
        let record = SessionRecord(id: .v7(now: now), userID: user.id, tokenHash: Credentials.digest(token),
                                   csrfToken: Credentials.newToken(), createdAt: now, lastSeenAt: now,
                                   expiresAt: now.addingTimeInterval(settings.sessionLifetime.secondsValue),
                                   userAgent: client.userAgent, address: client.address)
        try await store.createSession(record)
        return IssuedSession(token: token, record: record)
    }

    /// The principal behind a session cookie's token. Throws ``AccountError/unauthenticated(_:)`` for an
    /// unknown, expired or idle session (deleting the last two), ``AccountError/disabled`` or pending for an
    /// account that may no longer sign in.
    public func principal(sessionToken token: String) async throws -> Principal {
        let digest = Credentials.digest(token)
        if let cached = cache.principal(for: digest) { return cached }
        guard let (session, user) = try await store.session(tokenHash: digest) else {
            throw AccountError.unauthenticated("the session has ended; sign in again")
        }
        let now = Date()
        if session.expiresAt <= now || session.lastSeenAt.addingTimeInterval(settings.sessionIdle.secondsValue) <= now {
            _ = try await store.deleteSession(id: session.id, userID: user.id)
            throw AccountError.unauthenticated("the session has expired; sign in again")
        }
        try Self.requireActive(user)
        // Often enough that an active session never reaches its idle limit.
        if now.timeIntervalSince(session.lastSeenAt) >= min(settings.touchInterval, settings.sessionIdle / 4).secondsValue {
            try await store.touchSession(id: session.id, at: now)
        }
        let principal = Principal(user: user, credential: .session(session))
        cache.store(principal, for: digest)
        return principal
    }

    /// The principal behind an API key.
    public func principal(apiKey secret: String) async throws -> Principal {
        let digest = Credentials.digest(secret)
        if let cached = cache.principal(for: digest) { return cached }
        guard secret.hasPrefix(Credentials.keyMarker), let (key, user) = try await store.key(hash: digest) else {
            throw AccountError.unauthenticated("Incorrect API key provided")
        }
        let now = Date()
        guard !key.isExpired(at: now) else { throw AccountError.unauthenticated("this API key has expired") }
        try Self.requireActive(user)
        if key.lastUsedAt.map({ now.timeIntervalSince($0) >= settings.touchInterval.secondsValue }) ?? true {
            try await store.touchKey(id: key.id, at: now)
        }
        let principal = Principal(user: user, credential: .key(key))
        cache.store(principal, for: digest)
        return principal
    }

    static func requireActive(_ user: User) throws {
        switch user.role {
        case .admin, .user: return
        case .pending: throw AccountError.pendingApproval
        case .disabled: throw AccountError.disabled
        }
    }

    /// Ends the session with this token, if there is one.
    public func logOut(sessionToken token: String) async throws {
        let digest = Credentials.digest(token)
        cache.forget(digest: digest)
        guard let (session, user) = try await store.session(tokenHash: digest) else { return }
        _ = try await store.deleteSession(id: session.id, userID: user.id)
        await announce(user.id, ends: .credential(session.id))
        await audit(.signedOut, user.id)
    }

    /// Ends one of the user's sessions; false when they have no such session.
    public func endSession(id: UUID, of user: UserID) async throws -> Bool {
        guard try await store.deleteSession(id: id, userID: user) else { return false }
        await announce(user, ends: .credential(id))
        await audit(.sessionEnded, user, id.lowercased)
        return true
    }

    /// Deletes one of the user's keys; false when they have no such key.
    public func deleteKey(id: UUID, of user: UserID) async throws -> Bool {
        guard try await store.deleteKey(id: id, userID: user) else { return false }
        await announce(user, ends: .credential(id))
        await audit(.keyDeleted, user, id.lowercased)
        return true
    }

    /// Deletes the user with their data; false when unknown.
    public func deleteUser(_ id: UserID, by actor: UserID? = nil) async throws -> Bool {
        guard try await store.deleteUser(id: id) else { return false }
        await announce(id, ends: .everything)
        await audit(.userDeleted, id, by: actor)
        return true
    }

    /// Renames the user; nil when unknown.
    public func rename(_ id: UserID, to name: String) async throws -> User? {
        guard var user = try await store.user(id: id) else { return nil }
        user.name = Self.cleanName(name)
        user.updatedAt = Date()
        guard try await store.updateUser(user) else { return nil }
        await announce(id, ends: .nothing)
        return user
    }

    /// Changes the password after checking the current one, ends every session, and starts a new one.
    public func changePassword(of principal: Principal, current: String, new: String, client: ClientInfo) async throws -> IssuedSession {
        guard let stored = principal.user.passwordHash, case .valid = try await hasher.verify(current, against: stored) else {
            throw AccountError.forbidden("the current password is wrong")
        }
        try settings.passwords.check(new, email: principal.user.email)
        var user = principal.user
        user.passwordHash = try await hasher.hash(new)
        user.updatedAt = Date()
        guard try await store.updateUser(user) else { throw AccountError.unauthenticated("the account no longer exists") }
        try await store.deleteSessions(userID: user.id, except: nil)
        await announce(user.id, ends: .sessions)
        logger.notice("password changed; all sessions ended", metadata: ["user": "\(user.id)"])
        await audit(.passwordChanged, user.id, address: client.address)
        return try await startSession(for: user, client: client)
    }

    // MARK: Password reset

    /// A one-time token with which the user sets a new password within a day (an administrator hands over the
    /// link). Issuing another replaces it.
    public func issuePasswordReset(for id: UserID, by admin: User) async throws -> String {
        guard try await store.user(id: id) != nil else { throw ParleyError.notFound("no user with id \(id)") }
        let token = Credentials.newToken()
        try await store.createPasswordReset(tokenHash: Credentials.digest(token), userID: id,
                                            expiresAt: Date().addingTimeInterval(86_400))
        await audit(.passwordResetIssued, id, by: admin.id)
        return token
    }

    /// Sets a new password with a reset token (once), ends every session, and signs the user in.
    public func resetPassword(token: String, to password: String, client: ClientInfo) async throws -> (User, IssuedSession) {
        // Checked before the token is spent, so a refused password leaves the link usable.
        try settings.passwords.check(password, email: "")
        guard let id = try await store.consumePasswordReset(tokenHash: Credentials.digest(token), now: Date()),
              var user = try await store.user(id: id) else {
            throw AccountError.invalid("this reset link is unknown, used or expired; ask an administrator for a new one")
        }
        try settings.passwords.check(password, email: user.email)
        user.passwordHash = try await hasher.hash(password)
        user.updatedAt = Date()
        _ = try await store.updateUser(user)
        try await store.deleteSessions(userID: id, except: nil)
        await announce(id, ends: .sessions)
        await audit(.passwordReset, id, address: client.address)
        try Self.requireActive(user)
        return (user, try await startSession(for: user, client: client))
    }

    // MARK: Second factor

    /// A new authenticator secret and its `otpauth://` address for the app; nothing is stored until
    /// ``enableSecondFactor(for:secret:code:)`` sees a code made from it.
    public func newSecondFactor(for user: User) -> (secret: String, url: String) {
        let secret = SecondFactor.newSecret()
        return (secret, SecondFactor.url(secret: secret, account: user.email))
    }

    /// Turns the second factor on once `code` shows the app has `secret`; returns ten recovery codes, shown this
    /// once (only their digests are kept).
    public func enableSecondFactor(for principal: Principal, secret: String, code: String) async throws -> [String] {
        guard SecondFactor.isSecret(secret) else { throw AccountError.invalid("'secret' is not one this server made") }
        guard SecondFactor.matches(code, secret: secret) else {
            throw AccountError.invalid("the code does not match this secret; check the app's clock and try the next code")
        }
        guard var user = try await store.user(id: principal.user.id) else { throw AccountError.unauthenticated("the account no longer exists") }
        let codes = (0..<10).map { _ in SecondFactor.newRecoveryCode() }
        user.totpSecret = secret
        user.recoveryCodes = codes.map { Credentials.digest(SecondFactor.normalizedRecoveryCode($0)) }
        user.updatedAt = Date()
        _ = try await store.updateUser(user)
        await announce(user.id, ends: .nothing)
        await audit(.secondFactorEnabled, user.id)
        return codes
    }

    /// Turns the second factor off after checking the password.
    public func disableSecondFactor(for principal: Principal, password: String) async throws {
        guard var user = try await store.user(id: principal.user.id) else { throw AccountError.unauthenticated("the account no longer exists") }
        guard let stored = user.passwordHash, case .valid = try await hasher.verify(password, against: stored) else {
            throw AccountError.forbidden("the password is wrong")
        }
        user.totpSecret = nil
        user.recoveryCodes = []
        user.updatedAt = Date()
        _ = try await store.updateUser(user)
        await announce(user.id, ends: .nothing)
        await audit(.secondFactorDisabled, user.id)
    }

    // MARK: API keys

    /// Keys one user may hold, so a script gone wrong cannot fill the table.
    public static let maxKeysPerUser = 100

    /// A new key for `owner`; the secret is returned this once and never again.
    public func createKey(for owner: User, name: String, scopes: Set<KeyScope>, expiresAt: Date?, tokenBudget: Int? = nil) async throws
        -> (APIKeyRecord, secret: String)
    {
        guard !scopes.isEmpty else { throw AccountError.invalid("a key needs at least one scope (chat, gateway, admin)") }
        if scopes.contains(.admin) && owner.role != .admin {
            throw AccountError.forbidden("only administrators can create keys with the admin scope")
        }
        let now = Date()
        if let expiresAt, expiresAt <= now { throw AccountError.invalid("the expiry must be in the future") }
        guard try await store.keys(userID: owner.id).count < Self.maxKeysPerUser else {
            throw ParleyError.conflict("at most \(Self.maxKeysPerUser) keys per user; delete one first")
        }
        let (secret, prefix) = Credentials.newAPIKey()
        let record = APIKeyRecord(id: .v7(now: now), userID: owner.id, name: Self.cleanName(name), prefix: prefix,
                                  keyHash: Credentials.digest(secret), scopes: scopes, createdAt: now,
                                  expiresAt: expiresAt, lastUsedAt: nil, tokenBudget: tokenBudget)
        try await store.createKey(record)
        logger.info("API key created", metadata: ["user": "\(owner.id)", "key": "\(prefix)"])
        await audit(.keyCreated, owner.id, "\(record.name) (\(prefix)…, \(KeyScope.encode(scopes)))")
        return (record, secret)
    }

    // MARK: Administration

    /// Sets the user's token budget per period (nil: the server's default).
    public func setTokenBudget(of id: UserID, to budget: Int?, by admin: User) async throws -> User {
        guard var user = try await store.user(id: id) else { throw ParleyError.notFound("no user with id \(id)") }
        guard user.tokenBudget != budget else { return user }
        user.tokenBudget = budget
        user.updatedAt = Date()
        guard try await store.updateUser(user) else { throw ParleyError.notFound("no user with id \(id)") }
        await announce(id, ends: .nothing)
        await audit(.budgetChanged, id, by: admin.id, budget.map { "\($0) tokens" } ?? "the default")
        return user
    }

    /// Changes a user's role. Leaving the active roles, or any change of privilege, ends their sessions (and a
    /// disabled user's keys stop working at once, because keys are checked against the role).
    public func setRole(of id: UserID, to role: AccountRole, by admin: User) async throws -> User {
        guard var user = try await store.user(id: id) else { throw ParleyError.notFound("no user with id \(id)") }
        if user.id == admin.id && role != .admin {
            throw AccountError.forbidden("administrators cannot remove their own admin role")
        }
        guard user.role != role else { return user }
        let wasActive = user.role.isActive
        let previous = user.role
        user.role = role
        user.updatedAt = Date()
        guard try await store.updateUser(user) else { throw ParleyError.notFound("no user with id \(id)") }
        if wasActive { try await store.deleteSessions(userID: id, except: nil) }
        await announce(id, ends: role.isActive ? (wasActive ? .sessions : .nothing) : .everything)
        logger.notice("role changed", metadata: ["user": "\(id)", "role": "\(role.rawValue)", "by": "\(admin.id)"])
        await audit(.roleChanged, id, by: admin.id, "\(previous.rawValue) → \(role.rawValue)")
        return user
    }
}
