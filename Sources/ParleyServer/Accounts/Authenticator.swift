import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import ParleyAccounts
import ParleyCore

/// Finds who a request comes from: a user's API key (`Authorization: Bearer pk-…`) or session cookie, or one
/// of the service keys in `PARLEY_API_KEYS` (which stand for no user and reach only `/v1`).
struct Authenticator: Sendable {
    let accounts: Accounts
    let serviceKeys: ServiceKeys

    /// What a request presented.
    enum Presented {
        case none
        case bearer(String)
        case cookie(String)
    }

    static func presented(_ request: Request) -> Presented {
        if let header = request.headers[.authorization] {
            guard header.count > 7, header.prefix(7).lowercased() == "bearer " else { return .bearer("") }
            return .bearer(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
        }
        if let token = SessionCookie.token(in: request.headers) { return .cookie(token) }
        return .none
    }

    /// The user behind the request, or nil when it presented nothing. A credential that does not check out
    /// is a 401 (a disabled or pending account a 403).
    func principal(of request: Request) async throws -> Principal? {
        switch Self.presented(request) {
        case .none: return nil
        case .cookie(let token): return try await accounts.principal(sessionToken: token)
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
