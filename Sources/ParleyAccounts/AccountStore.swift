import Foundation
import ParleyCore

/// Durable storage of accounts, sessions and API keys, in the same database as the conversations (so
/// sessions survive restarts and work on every replica). The contract suite in `ParleyStoreTests` holds every
/// backend to it.
public protocol AccountStore: Sendable {
    func userCount() async throws -> Int
    /// Stores a new user. Throws ``AccountError/emailTaken`` when the email is in use. With `asFirstUser`, the
    /// insert happens only when there is no user at all (else ``AccountError/alreadySetUp``), and in the same
    /// transaction the data owned by ``UserID/local`` (everything stored before accounts existed) moves to it.
    func createUser(_ user: User, asFirstUser: Bool) async throws
    func user(id: UserID) async throws -> User?
    func user(email: String) async throws -> User?
    /// Users whose email or name contains `search` (all when nil), oldest first.
    func users(search: String?, limit: Int, offset: Int) async throws -> [User]
    /// Writes the user's name, role and password hash; false when the user does not exist.
    func updateUser(_ user: User) async throws -> Bool
    /// Records that the second-factor code of `step` signed the user in; false when that step or a later one
    /// already did (the code is being replayed).
    func claimSecondFactorStep(userID: UserID, step: Int) async throws -> Bool
    /// Sets the unused recovery codes to `new` if they are still `old`; false when they changed meanwhile.
    func replaceRecoveryCodes(userID: UserID, from old: [String], to new: [String]) async throws -> Bool
    /// Deletes the user with their sessions, keys, conversations, messages and feedback; false when unknown.
    func deleteUser(id: UserID) async throws -> Bool

    func createSession(_ session: SessionRecord) async throws
    /// The session with this token digest and its user, expired or not.
    func session(tokenHash: String) async throws -> (SessionRecord, User)?
    /// Records activity on the session (for idle expiry and the sessions page).
    func touchSession(id: UUID, at: Date) async throws
    /// The user's sessions, newest first.
    func sessions(userID: UserID) async throws -> [SessionRecord]
    /// False when the user has no such session.
    func deleteSession(id: UUID, userID: UserID) async throws -> Bool
    /// Ends all the user's sessions but `except`.
    func deleteSessions(userID: UserID, except: UUID?) async throws
    /// Removes sessions whose absolute expiry or idle limit has passed; returns how many.
    func deleteExpiredSessions(now: Date, idleSince: Date) async throws -> Int

    /// Stores a one-time password-reset token's digest for the user, replacing any earlier one.
    func createPasswordReset(tokenHash: String, userID: UserID, expiresAt: Date) async throws
    /// Takes the reset token: returns its user and deletes it, when it exists and has not expired.
    func consumePasswordReset(tokenHash: String, now: Date) async throws -> UserID?

    func createKey(_ key: APIKeyRecord) async throws
    /// The key with this digest and its owner.
    func key(hash: String) async throws -> (APIKeyRecord, User)?
    /// The user's keys, newest first.
    func keys(userID: UserID) async throws -> [APIKeyRecord]
    /// Deletes the key; false when the user has no such key.
    func deleteKey(id: UUID, userID: UserID) async throws -> Bool
    func touchKey(id: UUID, at: Date) async throws

    func recordAudit(_ event: AuditEvent) async throws
    /// Events newest first, older than `before` when given, about `userID` when given.
    func auditEvents(userID: UserID?, before: Date?, limit: Int) async throws -> [AuditEvent]
    /// Deletes events older than `cutoff`; returns how many.
    func deleteAuditEvents(before cutoff: Date) async throws -> Int

    /// Adds each record's counts to the stored row of its user, day, key and model (creating it); records of
    /// users that no longer exist are dropped.
    func addUsage(_ records: [UsageRecord]) async throws
    /// The user's rows from `firstDay` on, newest day first.
    func usage(userID: UserID, from firstDay: String) async throws -> [UsageRecord]
    /// Tokens the user — or, with `keyID`, that key of theirs — spent from `firstDay` on.
    func spentTokens(userID: UserID, keyID: UUID?, from firstDay: String) async throws -> Int
    /// Each user's totals from `firstDay` on (`day`, `keyID` and `model` empty), most tokens first.
    func usageByUser(from firstDay: String, limit: Int) async throws -> [UsageRecord]
    /// Deletes rows of days before `day`; returns how many.
    func deleteUsage(before day: String) async throws -> Int
}

/// Why an account operation was refused. The HTTP layer maps each to a status.
public enum AccountError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Wrong email or password — deliberately the same for both.
    case invalidCredentials
    /// No valid session or key was presented (or it expired, or was revoked).
    case unauthenticated(String)
    /// The account waits for an admin's approval.
    case pendingApproval
    case disabled
    /// The caller is signed in but may not do this.
    case forbidden(String)
    case emailTaken
    /// The first admin already exists.
    case alreadySetUp
    /// Sign-up is closed on this server.
    case signUpClosed
    case weakPassword(String)
    case invalid(String)
    /// The password was right; the account also needs a code from its authenticator app (or a recovery code).
    case secondFactorRequired
    /// The code from the authenticator app (or the recovery code) was wrong.
    case wrongCode

    public var description: String {
        switch self {
        case .invalidCredentials: "wrong email or password"
        case .unauthenticated(let reason): reason
        case .pendingApproval: "this account is waiting for an administrator's approval"
        case .disabled: "this account is disabled"
        case .forbidden(let reason): reason
        case .emailTaken: "an account with this email already exists"
        case .alreadySetUp: "the administrator account already exists; sign in instead"
        case .signUpClosed: "sign-up is closed on this server; ask an administrator for an account"
        case .weakPassword(let reason): reason
        case .invalid(let reason): reason
        case .secondFactorRequired: "enter the code from your authenticator app (or a recovery code)"
        case .wrongCode: "wrong code"
        }
    }
}
