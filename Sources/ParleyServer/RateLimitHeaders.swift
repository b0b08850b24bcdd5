import HTTPTypes
import ParleyCore
import ParleyGateway
import ParleyProviders

/// `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (IETF draft), `Retry-After` and OpenAI's
/// `retry-after-ms`, which its SDKs prefer for their waits.
enum RateLimitHeaders {
    static let limit = HTTPField.Name("RateLimit-Limit")!
    static let remaining = HTTPField.Name("RateLimit-Remaining")!
    static let reset = HTTPField.Name("RateLimit-Reset")!
    static let retryAfterMS = HTTPField.Name("retry-after-ms")!

    static func add(_ state: BucketState?, to fields: inout HTTPFields) {
        guard let state else { return }
        fields[limit] = String(state.limit)
        fields[remaining] = String(state.remaining)
        fields[reset] = String(state.reset.roundedUpSeconds)
    }

    /// The headers for a refused request: the exact wait, in whole seconds (rounded up) and in milliseconds.
    static func add(retryAfter: Duration, to fields: inout HTTPFields) {
        fields[.retryAfter] = String(max(1, retryAfter.roundedUpSeconds))
        let (seconds, attoseconds) = retryAfter.components
        fields[retryAfterMS] = String(seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }
}
