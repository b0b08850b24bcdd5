import Crypto
import HTTPTypes
import Hummingbird
import ParleyCore

/// `Authorization: Bearer <key>` against the configured keys. With no keys configured, `/v1` is open to
/// clients on this machine only.
struct APIKeyMiddleware: RouterMiddleware {
    let keys: [[UInt8]]
    /// Each key's id for limits, the cache and logs: a digest, so the key itself is never kept around.
    let ids: [String]

    init(keys: [String]) {
        self.keys = keys.map { Array($0.utf8) }
        self.ids = keys.map { "key:" + Hex.encode(SHA256.hash(data: Array($0.utf8)).prefix(8)) }
    }

    func handle(_ request: Request, context: ParleyRequestContext,
                next: (Request, ParleyRequestContext) async throws -> Response) async throws -> Response {
        if keys.isEmpty {
            guard context.isLoopback else {
                throw ClientError.unauthorized("no API keys are configured, so /v1 only answers on loopback; set PARLEY_API_KEYS")
            }
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw ClientError.unauthorized("You didn't provide an API key: send Authorization: Bearer <key>")
        }
        let presented = Array(header.utf8.dropFirst(7))
        // Compare with every key in time independent of where they differ.
        var matched: Int?
        for (index, key) in keys.enumerated() where Self.constantTimeEqual(key, presented) { matched = index }
        guard let matched else {
            throw ClientError.unauthorized("Incorrect API key provided")
        }
        var context = context
        context.principal = ids[matched]
        return try await next(request, context)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}
