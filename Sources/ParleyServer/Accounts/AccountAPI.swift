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
        /// The user's own token budget per period; null: the server's default.
        var tokenBudget: Int?
        enum CodingKeys: String, CodingKey {
            case id, email, name, role
            case createdAt = "created_at"
            case twoFactor = "two_factor"
            case tokenBudget = "token_budget"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(email, forKey: .email)
            try container.encode(name, forKey: .name)
            try container.encode(role, forKey: .role)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(twoFactor, forKey: .twoFactor)
            try container.encode(tokenBudget, forKey: .tokenBudget)
        }
        init(_ user: User) {
            id = user.id.rawValue
            email = user.email
            name = user.name
            role = user.role.rawValue
            createdAt = API.time(user.createdAt)
            twoFactor = user.totpSecret != nil
            tokenBudget = user.tokenBudget
        }
    }

    /// What the UI asks first: whether to offer the first-run form, sign-in, or the app.
    struct AuthState: Encodable {
        var setupRequired: Bool
        var signup: String
        var user: Account?
        var csrfToken: String?
        /// The single sign-on button's words; absent when there is none.
        var singleSignOn: String?
        enum CodingKeys: String, CodingKey {
            case setupRequired = "setup_required"
            case signup, user
            case csrfToken = "csrf_token"
            case singleSignOn = "sso"
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
        var tokenBudget: Int?
        enum CodingKeys: String, CodingKey {
            case name, scopes
            case expiresInDays = "expires_in_days"
            case tokenBudget = "token_budget"
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
        var tokenBudget: Int?
        /// Only in the answer that created the key.
        var key: String?
        enum CodingKeys: String, CodingKey {
            case id, name, prefix, scopes, key
            case createdAt = "created_at"
            case expiresAt = "expires_at"
            case lastUsedAt = "last_used_at"
            case tokenBudget = "token_budget"
        }
        init(_ record: APIKeyRecord, secret: String? = nil) {
            id = record.id.lowercased
            name = record.name
            prefix = record.prefix
            scopes = record.scopes.sorted().map(\.rawValue)
            createdAt = API.time(record.createdAt)
            expiresAt = record.expiresAt.map(API.time)
            lastUsedAt = record.lastUsedAt.map(API.time)
            tokenBudget = record.tokenBudget
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
        /// Absent: unchanged; null: back to the server's default; a number: the user's own budget.
        var tokenBudget: Int??
        enum CodingKeys: String, CodingKey {
            case role, name
            case tokenBudget = "token_budget"
        }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            role = try container.decodeIfPresent(String.self, forKey: .role)
            name = try container.decodeIfPresent(String.self, forKey: .name)
            if container.contains(.tokenBudget) {
                tokenBudget = .some(try container.decodeNil(forKey: .tokenBudget) ? nil : try container.decode(Int.self, forKey: .tokenBudget))
            }
        }
    }

    /// A day's tokens on one model, through one key (or the user's sessions).
    struct UsageRow: Encodable {
        var day: String
        var model: String
        var keyID: String?
        var requests: Int
        var promptTokens: Int
        var completionTokens: Int
        enum CodingKeys: String, CodingKey {
            case day, model, requests
            case keyID = "key_id"
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
        }
        init(_ record: UsageRecord) {
            day = record.day
            model = record.model
            keyID = record.keyID?.lowercased
            requests = record.requests
            promptTokens = record.promptTokens
            completionTokens = record.completionTokens
        }
    }

    /// A user's usage over the last days and their budget for this period.
    struct Usage: Encodable {
        var period: String
        var budget: Int?
        var spent: Int
        var resetsAt: String
        var data: [UsageRow]
        enum CodingKeys: String, CodingKey {
            case period, budget, spent, data
            case resetsAt = "resets_at"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(period, forKey: .period)
            try container.encode(budget, forKey: .budget)
            try container.encode(spent, forKey: .spent)
            try container.encode(resetsAt, forKey: .resetsAt)
            try container.encode(data, forKey: .data)
        }
    }

    /// A user's totals over the last days, for administrators.
    struct UserUsage: Encodable {
        var userID: String
        var requests: Int
        var promptTokens: Int
        var completionTokens: Int
        enum CodingKeys: String, CodingKey {
            case requests
            case userID = "user_id"
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
        }
        init(_ record: UsageRecord) {
            userID = record.userID.rawValue
            requests = record.requests
            promptTokens = record.promptTokens
            completionTokens = record.completionTokens
        }
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
