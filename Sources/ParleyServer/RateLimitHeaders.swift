import HTTPTypes
import ParleyCore
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

    /// The `/v1` error for a refusal: a 429 with the wait, or a 413 for a request that can never pass.
    static func error(_ refusal: LimitRefusal) -> OpenAIError {
        switch refusal {
        case .limited(_, _, let retryAfter, let state):
            var error = OpenAIError(.tooManyRequests, type: "rate_limit_error", message: refusal.description, code: "rate_limit_exceeded")
            add(state, to: &error.headers)
            add(retryAfter: retryAfter, to: &error.headers)
            return error
        case .tooLarge:
            return OpenAIError(.contentTooLarge, type: "invalid_request_error", message: refusal.description, code: "tokens_exceed_limit")
        }
    }
}
