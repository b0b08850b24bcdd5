import ParleyCore
import ParleyGateway

/// Limits password guessing with the shared rate limiter (so with Redis the limit holds across replicas):
/// failed sign-ins per client address, and per account. Every attempt takes one unit from both buckets before
/// the password is checked; a success gives them back, so only failures count.
///
/// An account whose bucket is empty still lets in a right password from an address that has no failures of
/// its own (a full bucket): an attacker spraying guesses from many addresses cannot lock the owner out.
struct LoginThrottle: Sendable {
    let limiter: any RateLimiter
    let limit: RateLimit

    /// What ``admit(account:address:)`` took, to give back on success.
    struct Ticket: Sendable {
        let buckets: [RateBucket]
    }

    /// Takes an attempt from the buckets, or throws a 429 ``LimitRefusal`` saying when to try again.
    func admit(account: String, address: String) async throws -> Ticket {
        let byAddress = RateBucket(key: "login:address:" + address, cost: 1, limit: limit)
        let byAccount = RateBucket(key: "login:account:" + account, cost: 1, limit: limit)
        let addressVerdict = try await limiter.acquire([byAddress])
        guard addressVerdict.allowed, let addressState = addressVerdict.buckets.first else {
            throw refusal(addressVerdict)
        }
        let cleanAddress = addressState.remaining >= limit.limit - 1
        let accountVerdict = try await limiter.acquire([byAccount])
        if accountVerdict.allowed { return Ticket(buckets: [byAddress, byAccount]) }
        guard cleanAddress else { throw refusal(accountVerdict) }
        return Ticket(buckets: [byAddress])
    }

    /// A right password: the attempt does not count.
    func succeeded(_ ticket: Ticket) async {
        for bucket in ticket.buckets {
            try? await limiter.adjust(RateBucket(key: bucket.key, cost: -1, limit: bucket.limit))
        }
    }

    private func refusal(_ verdict: RateVerdict) -> LimitRefusal {
        let state = verdict.buckets.first ?? BucketState(limit: limit.limit, remaining: 0, reset: limit.period)
        return .limited(what: "failed sign-ins", limit: limit.limit, retryAfter: verdict.retryAfter ?? .seconds(1), state: state,
                        kind: "sign_ins")
    }
}
