import Foundation
import ParleyCore

/// What an account may do. `pending` accounts signed up and wait for an admin's approval; `disabled` ones
/// cannot sign in and their sessions and keys stop working at once.
public enum AccountRole: String, Sendable, CaseIterable, Codable {
    case admin, user, pending, disabled

    /// True for roles that may use Parley (sign in, chat, call the gateway).
    public var isActive: Bool { self == .admin || self == .user }
}

/// A person with an account. Their conversations are owned by ``id``.
public struct User: Sendable, Equatable {
    public var id: UserID
    /// Lowercased and trimmed (see ``User/normalizedEmail(_:)``); unique.
    public var email: String
    public var name: String
    public var role: AccountRole
    /// The self-describing password hash (``PasswordHasher``); nil for accounts that sign in elsewhere.
    public var passwordHash: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// The shared secret of the user's authenticator app, when they turned the second factor on.
    public var totpSecret: String?
    /// SHA-256 digests of the recovery codes not used yet.
    public var recoveryCodes: [String]
    /// Tokens the user may spend per budget period; nil: the server's default (`token_budget`).
    public var tokenBudget: Int?

    public init(id: UserID, email: String, name: String, role: AccountRole, passwordHash: String?, createdAt: Date, updatedAt: Date,
                totpSecret: String? = nil, recoveryCodes: [String] = [], tokenBudget: Int? = nil) {
        self.id = id
        self.email = email
        self.name = name
        self.role = role
        self.passwordHash = passwordHash
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.totpSecret = totpSecret
        self.recoveryCodes = recoveryCodes
        self.tokenBudget = tokenBudget
    }

    /// A new account with a fresh time-ordered id.
    public static func new(email: String, name: String, role: AccountRole, passwordHash: String?, now: Date = Date()) -> User {
        User(id: UserID(UUID.v7(now: now).lowercased), email: email, name: name, role: role, passwordHash: passwordHash,
             createdAt: now, updatedAt: now)
    }

    /// The form emails are stored and compared in, or `nil` when `text` is not an address: trimmed, lowercased,
    /// one `@` with something on both sides, no spaces or control characters, at most 254 characters.
    public static func normalizedEmail(_ text: String) -> String? {
        let email = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard email.utf8.count <= 254, !email.isEmpty else { return nil }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        guard !email.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F })
        else { return nil }
        return email
    }
}

/// Who may create their own account.
public enum SignUpMode: String, Sendable, CaseIterable {
    /// Only admins add people (the default).
    case closed
    /// Anyone may sign up; an admin approves them before they can sign in.
    case approval
    /// Anyone may sign up and use Parley at once.
    case open
}
