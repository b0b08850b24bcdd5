import ParleyCore
import ParleyGateway

/// One rate limit per key on the shared limiter (so with Redis it holds across replicas): a unit is taken per
/// call, and an empty bucket is a 429 saying when to try again.
struct RateBucketSource: Sendable {
    let limiter: any RateLimiter
    /// Keeps these buckets apart from the limiter's others.
    let prefix: String
    let limit: RateLimit

    /// Takes a unit of `key`'s bucket, or throws a ``LimitRefusal`` naming `what` is limited.
    func take(_ key: String, what: String) async throws {
        let verdict = try await limiter.acquire([RateBucket(key: prefix + key, cost: 1, limit: limit)])
        guard verdict.allowed else {
            let state = verdict.buckets.first ?? BucketState(limit: limit.limit, remaining: 0, reset: limit.period)
            throw LimitRefusal.limited(what: what, limit: limit.limit, retryAfter: verdict.retryAfter ?? .seconds(1), state: state,
                                       kind: "visitor")
        }
    }
}
