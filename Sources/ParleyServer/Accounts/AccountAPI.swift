import Foundation
import ParleyAccounts
import ParleyCore

/// The JSON shapes of accounts, sessions and keys. Never a password hash, token digest or key.
extension API {
    struct Account: Encodable {
        var id: String
        var email: String
        var name: String
        var role: String
        var createdAt: String
        /// Whether signing in also takes a code from an authenticator app.
        var twoFactor: Bool
        enum CodingKeys: String, CodingKey {
            case id, email, name, role
            case createdAt = "created_at"
            case twoFactor = "two_factor"
        }
        init(_ user: User) {
            id = user.id.rawValue
            email = user.email
            name = user.name
            role = user.role.rawValue
            createdAt = API.time(user.createdAt)
            twoFactor = user.totpSecret != nil
        }
    }

    /// What the UI asks first: whether to offer the first-run form, sign-in, or the app.
    struct AuthState: Encodable {
        var setupRequired: Bool
        var signup: String
        var user: Account?
        var csrfToken: String?
        enum CodingKeys: String, CodingKey {
            case setupRequired = "setup_required"
            case signup, user
            case csrfToken = "csrf_token"
        }
    }

    struct Credentials: Decodable {
        var email: String
        var password: String
        var name: String?
        /// The authenticator app's code (or a recovery code), for accounts with a second factor.
        var code: String?
    }

    struct NewSecondFactor: Encodable {
        var secret: String
        var otpauthURL: String
        enum CodingKeys: String, CodingKey {
            case secret
            case otpauthURL = "otpauth_url"
        }
    }

    struct SecondFactorConfirmation: Decodable {
        var secret: String
        var code: String
    }

    struct RecoveryCodes: Encodable {
        var recoveryCodes: [String]
        enum CodingKeys: String, CodingKey {
            case recoveryCodes = "recovery_codes"
        }
    }

    struct PasswordReset: Decodable {
        var token: String
        var password: String
    }

    struct PasswordConfirmation: Decodable {
        var password: String
    }

    struct PasswordChange: Decodable {
        var currentPassword: String
        var newPassword: String
        enum CodingKeys: String, CodingKey {
            case currentPassword = "current_password"
            case newPassword = "new_password"
        }
    }

    struct Session: Encodable {
        var id: String
        var createdAt: String
        var lastSeenAt: String
        var expiresAt: String
        var userAgent: String
        var address: String
        var current: Bool
        enum CodingKeys: String, CodingKey {
            case id, current, address
            case createdAt = "created_at"
            case lastSeenAt = "last_seen_at"
            case expiresAt = "expires_at"
            case userAgent = "user_agent"
        }
        init(_ session: SessionRecord, current: Bool) {
            id = session.id.lowercased
            createdAt = API.time(session.createdAt)
            lastSeenAt = API.time(session.lastSeenAt)
            expiresAt = API.time(session.expiresAt)
            userAgent = session.userAgent
            address = session.address
            self.current = current
        }
    }

    struct NewKey: Decodable {
        var name: String
        var scopes: [String]?
        var expiresInDays: Int?
        enum CodingKeys: String, CodingKey {
            case name, scopes
            case expiresInDays = "expires_in_days"
        }
    }

    struct Key: Encodable {
        var id: String
        var name: String
        var prefix: String
        var scopes: [String]
        var createdAt: String
        var expiresAt: String?
        var lastUsedAt: String?
        /// Only in the answer that created the key.
        var key: String?
        enum CodingKeys: String, CodingKey {
            case id, name, prefix, scopes, key
            case createdAt = "created_at"
            case expiresAt = "expires_at"
            case lastUsedAt = "last_used_at"
        }
        init(_ record: APIKeyRecord, secret: String? = nil) {
            id = record.id.lowercased
            name = record.name
            prefix = record.prefix
            scopes = record.scopes.sorted().map(\.rawValue)
            createdAt = API.time(record.createdAt)
            expiresAt = record.expiresAt.map(API.time)
            lastUsedAt = record.lastUsedAt.map(API.time)
            key = secret
        }
    }

    struct NewUser: Decodable {
        var email: String
        var name: String?
        var password: String?
        var role: String?
    }

    struct UserPatch: Decodable {
        var role: String?
        var name: String?
    }

    struct Audit: Encodable {
        var id: String
        var at: String
        var kind: String
        var userID: String?
        var actorID: String?
        var detail: String
        var address: String
        enum CodingKeys: String, CodingKey {
            case id, at, kind, detail, address
            case userID = "user_id"
            case actorID = "actor_id"
        }
        init(_ event: AuditEvent) {
            id = event.id.lowercased
            at = API.time(event.at)
            kind = event.kind.rawValue
            userID = event.userID?.rawValue
            actorID = event.actorID?.rawValue
            detail = event.detail
            address = event.address
        }
    }

    struct List<Item: Encodable>: Encodable {
        var data: [Item]
    }
}
