import Crypto
import Foundation
import ParleyCore

/// The secrets Parley hands out — session tokens, API keys, CSRF tokens — and the digests it keeps of them.
///
/// Tokens are 256 random bits. Only their SHA-256 is stored, so a copy of the database lets nobody sign in; a
/// slow hash would add nothing for secrets this long.
public enum Credentials {
    /// A new random token: 32 bytes from the system's generator, base64url without padding (43 characters).
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return base64URL(bytes)
    }

    /// The stored form of a token: its SHA-256 in lowercase hex.
    public static func digest(_ token: String) -> String {
        Hex.encode(SHA256.hash(data: Array(token.utf8)))
    }

    /// API keys read `pk-` then a 43-character token; the first 12 characters are the key's visible prefix.
    public static let keyMarker = "pk-"
    static let prefixLength = 12

    /// A new API key and the prefix shown in lists to recognise it.
    public static func newAPIKey() -> (secret: String, prefix: String) {
        let secret = keyMarker + newToken()
        return (secret, String(secret.prefix(prefixLength)))
    }

    /// Compares secrets in time that depends only on their lengths, not on where they differ.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// What an API key may be used for.
public enum KeyScope: String, Sendable, CaseIterable, Codable, Comparable {
    /// Parley's own API, `/api/v1`.
    case chat
    /// The OpenAI-compatible gateway, `/v1`.
    case gateway
    /// The admin API.
    case admin

    public static func < (lhs: KeyScope, rhs: KeyScope) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Parses a comma-separated list (`chat,gateway`); nil when any name is unknown or the list is empty.
    public static func parse(_ text: String) -> Set<KeyScope>? {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { return nil }
        var scopes = Set<KeyScope>()
        for name in names {
            guard let scope = KeyScope(rawValue: name) else { return nil }
            scopes.insert(scope)
        }
        return scopes
    }

    /// The stored form: names sorted and comma-separated.
    public static func encode(_ scopes: Set<KeyScope>) -> String { scopes.sorted().map(\.rawValue).joined(separator: ",") }
}

/// A signed-in browser. The token itself lives only in the cookie; ``tokenHash`` is what the database keeps.
public struct SessionRecord: Sendable, Equatable {
    public var id: UUID
    public var userID: UserID
    public var tokenHash: String
    /// Sent back in `X-CSRF-Token` on every state-changing request made with the cookie.
    public var csrfToken: String
    public var createdAt: Date
    public var lastSeenAt: Date
    /// The absolute end, whatever the activity.
    public var expiresAt: Date
    public var userAgent: String
    public var address: String

    public init(id: UUID, userID: UserID, tokenHash: String, csrfToken: String, createdAt: Date, lastSeenAt: Date,
                expiresAt: Date, userAgent: String, address: String) {
        self.id = id
        self.userID = userID
        self.tokenHash = tokenHash
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.expiresAt = expiresAt
        self.userAgent = userAgent
        self.address = address
    }
}

/// A user's API key as stored: never the key, only its digest and visible prefix.
public struct APIKeyRecord: Sendable, Equatable {
    public var id: UUID
    public var userID: UserID
    public var name: String
    public var prefix: String
    public var keyHash: String
    public var scopes: Set<KeyScope>
    public var createdAt: Date
    public var expiresAt: Date?
    public var lastUsedAt: Date?
    /// Tokens the key may spend per budget period, within its owner's; nil: no budget of its own.
    public var tokenBudget: Int?

    public init(id: UUID, userID: UserID, name: String, prefix: String, keyHash: String, scopes: Set<KeyScope>,
                createdAt: Date, expiresAt: Date?, lastUsedAt: Date?, tokenBudget: Int? = nil) {
        self.id = id
        self.userID = userID
        self.name = name
        self.prefix = prefix
        self.keyHash = keyHash
        self.scopes = scopes
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastUsedAt = lastUsedAt
        self.tokenBudget = tokenBudget
    }

    public func isExpired(at now: Date) -> Bool { expiresAt.map { $0 <= now } ?? false }
}
