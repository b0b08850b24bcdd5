import Foundation
import ParleyCore

/// A security event: who did what to which account, from where. Kept for `audit_retention_days`, shown to
/// administrators. Never a password, token or key — only names, ids, prefixes and addresses.
public struct AuditEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case setUp = "setup"
        case signedUp = "signup"
        case signedIn = "login"
        case signInFailed = "login_failed"
        case signedOut = "logout"
        case passwordChanged = "password_changed"
        case keyCreated = "key_created"
        case keyDeleted = "key_deleted"
        case sessionEnded = "session_ended"
        case userCreated = "user_created"
        case roleChanged = "role_changed"
        case userDeleted = "user_deleted"
        case secondFactorEnabled = "totp_enabled"
        case secondFactorDisabled = "totp_disabled"
        case recoveryCodeUsed = "recovery_code_used"
        case passwordResetIssued = "password_reset_issued"
        case passwordReset = "password_reset"
        case budgetChanged = "budget_changed"
    }

    public var id: UUID
    public var at: Date
    public var kind: Kind
    /// The account the event is about (nil for a failed sign-in to an unknown email).
    public var userID: UserID?
    /// Who did it, when not the user themselves (an administrator).
    public var actorID: UserID?
    /// What else is worth knowing: the email tried, the new role, the key's prefix.
    public var detail: String
    public var address: String

    public init(kind: Kind, userID: UserID?, actorID: UserID? = nil, detail: String = "", address: String = "",
                at: Date = Date()) {
        self.id = .v7(now: at)
        self.at = at
        self.kind = kind
        self.userID = userID
        self.actorID = actorID
        self.detail = String(detail.prefix(300))
        self.address = String(address.prefix(64))
    }

    public init(id: UUID, at: Date, kind: Kind, userID: UserID?, actorID: UserID?, detail: String, address: String) {
        self.id = id
        self.at = at
        self.kind = kind
        self.userID = userID
        self.actorID = actorID
        self.detail = detail
        self.address = address
    }
}
