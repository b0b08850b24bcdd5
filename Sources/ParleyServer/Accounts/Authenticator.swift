import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import ParleyAccounts
import ParleyCore

/// Finds who a request comes from: a user's API key (`Authorization: Bearer pk-…`) or session cookie, or one
/// of the service keys in `PARLEY_API_KEYS` (which stand for no user and reach only `/v1`). Behind a trusted
/// proxy that signs users in, the session is made from the proxy's header (`GET /api/v1/auth/session`) and must
/// keep matching it.
struct Authenticator: Sendable {
    let accounts: Accounts
    let serviceKeys: ServiceKeys
    let proxies: TrustedProxies
    /// The signed-in users' open streams on this replica.
    let streams = OpenStreams()
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    /// The email a trusted proxy says the user is, when this request came through one.
    func proxiedEmail(_ request: Request, _ context: ParleyRequestContext) -> String? {
        guard let name = proxies.header.flatMap({ HTTPField.Name($0) }), proxies.trusts(context.remoteAddress?.ipAddress),
              let email = request.headers.value(of: name), !email.isEmpty else { return nil }
        return User.normalizedEmail(email)
    }

    /// Where the request came from: the peer, or the client a trusted proxy names.
    func client(_ request: Request, _ context: ParleyRequestContext) -> ClientInfo {
        ClientInfo(userAgent: request.headers.value(of: .userAgent) ?? "",
                   address: proxies.clientAddress(peer: context.remoteAddress?.ipAddress,
                                                  forwardedFor: request.headers.value(of: Self.forwardedFor)))
    }

    /// What a request presented.
    enum Presented {
        case none
        case bearer(String)
        case cookie(String)
    }

    static func presented(_ request: Request) -> Presented {
        if var header = request.headers.value(of: .authorization) {
            // The scheme's name in any case, compared byte by byte (no lowercased copy of the header).
            return header.withUTF8 { bytes in
                let scheme: StaticString = "bearer "
                guard bytes.count > 7, (0..<7).allSatisfy({ bytes[$0].asciiLowercased == scheme.utf8Start[$0] })
                else { return .bearer("") }
                let key = UnsafeBufferPointer(rebasing: bytes[7...]).trimmingSpaces
                return .bearer(String(decoding: key, as: UTF8.self))
            }
        }
        if let token = SessionCookie.token(in: request.headers) { return .cookie(token) }
        return .none
    }

    /// The user behind the request, or nil when it presented nothing. A credential that does not check out
    /// is a 401 (a disabled or pending account a 403).
    func principal(of request: Request, context: ParleyRequestContext) async throws -> Principal? {
        switch Self.presented(request) {
        case .none: return nil
        case .cookie(let token):
            let principal = try await accounts.principal(sessionToken: token)
            // Behind a signing-in proxy, the session must be the proxy's current user's (who may have changed).
            if let email = proxiedEmail(request, context), email != principal.user.email {
                throw AccountError.unauthenticated("the proxy signed in another user; reload the page")
            }
            return principal
        case .bearer(let key): return try await accounts.principal(apiKey: key)
        }
    }
}

/// The service keys from `PARLEY_API_KEYS`: compared in constant time, known afterwards by a digest.
struct ServiceKeys: Sendable {
    let keys: [[UInt8]]
    /// Each key's id for limits, the cache and logs: a digest, so the key itself is never kept around.
    let ids: [String]

    init(_ keys: [String]) {
        self.keys = keys.map { Array($0.utf8) }
        self.ids = keys.map { "key:" + Hex.encode(SHA256.hash(data: Array($0.utf8)).prefix(8)) }
    }

    var isEmpty: Bool { keys.isEmpty }

    /// The id of the service key `presented` is, if it is one.
    func id(of presented: String) -> String? {
        let bytes = Array(presented.utf8)
        var matched: Int?
        // Compare with every key, in time independent of where they differ.
        for (index, key) in keys.enumerated() where Credentials.constantTimeEqual(key, bytes) { matched = index }
        return matched.map { ids[$0] }
    }
}
