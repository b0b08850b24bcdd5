import ParleyCore

/// A rate: `limit` units (requests or tokens) per `period`, allowed in a burst.
public struct RateLimit: Sendable, Hashable, CustomStringConvertible {
    public var limit: Int
    public var period: Duration

    public init(limit: Int, period: Duration = .seconds(60)) {
        self.limit = max(1, limit)
        self.period = period
    }

    public static func perMinute(_ limit: Int) -> RateLimit { RateLimit(limit: limit) }

    /// The period in microseconds.
    public var periodMicros: Int64 { period.wholeMicroseconds }

    public var description: String { "\(limit) per \(period)" }
}

/// One bucket a request draws from: `cost` units of `key`'s `limit` (negative to give units back in
/// ``RateLimiter/adjust(_:)``).
public struct RateBucket: Sendable, Hashable {
    public var key: String
    public var cost: Int
    public var limit: RateLimit

    public init(key: String, cost: Int, limit: RateLimit) {
        self.key = key
        self.cost = cost
        self.limit = limit
    }
}

/// A bucket's state after a decision, for `RateLimit-*` headers.
public struct BucketState: Sendable, Equatable {
    public var limit: Int
    /// Units that could be taken now.
    public var remaining: Int
    /// Until the bucket is full again.
    public var reset: Duration

    public init(limit: Int, remaining: Int, reset: Duration) {
        self.limit = limit
        self.remaining = remaining
        self.reset = reset
    }
}

/// What a limiter decided about a request.
public struct RateVerdict: Sendable, Equatable {
    /// True when every bucket had the units; then all were taken. Otherwise none was.
    public var allowed: Bool
    /// When denied: the earliest time after which the same request would be allowed.
    public var retryAfter: Duration?
    /// One state per bucket asked, in order.
    public var buckets: [BucketState]

    public init(allowed: Bool, retryAfter: Duration?, buckets: [BucketState]) {
        self.allowed = allowed
        self.retryAfter = retryAfter
        self.buckets = buckets
    }

    /// The bucket nearest to empty, which is the one a client should pace itself by.
    public var tightest: BucketState? {
        buckets.min { Double($0.remaining) / Double($0.limit) < Double($1.remaining) / Double($1.limit) }
    }
}

/// Token-bucket limits by the generic cell rate algorithm (GCRA): each key stores one instant, the
/// "theoretical arrival time", so a check is one read and one write. ``MemoryRateLimiter`` serves one
/// process; the Redis limiter (in `ParleyRedis`) runs the same rule in a script shared by replicas.
public protocol RateLimiter: Sendable {
    /// Takes every bucket's cost if all have it, else none (a request refused for tokens keeps its request).
    func acquire(_ buckets: [RateBucket]) async throws -> RateVerdict
    /// Gives back (negative `cost`) or charges more (positive) after the fact, never refusing: reconciles a
    /// reservation with what was really used.
    func adjust(_ bucket: RateBucket) async throws
    /// Takes one of `max` concurrent slots under `key` for `lease` (until ``release(_:lease:)``, or until
    /// `ttl` passes, so a crashed holder cannot keep it). False when all are taken.
    func hold(_ key: String, max: Int, lease: String, ttl: Duration) async throws -> Bool
    /// Gives a concurrent slot back.
    func release(_ key: String, lease: String) async throws
    /// Charges every allowance if all have room for their amount, else none.
    func spend(_ charges: [AllowanceCharge]) async throws -> AllowanceVerdict
    /// Adds `amount` (negative: gives back) to an allowance, never refusing and never going below zero:
    /// reconciles a charge with what was really used.
    func adjustSpent(_ charge: AllowanceCharge) async throws
    /// Adds `amount` to an allowance once: the first seed of each allowance counts, later ones (from other
    /// processes sharing the backend) do nothing. Starts a counter from the stored usage after a restart, on top
    /// of whatever was charged meanwhile.
    func seedSpent(_ charge: AllowanceCharge) async throws
}

/// The algorithm, on microsecond instants.
public enum GCRA {
    public struct Outcome: Sendable, Equatable {
        public var allowed: Bool
        /// The key's new arrival time when allowed (unchanged when denied).
        public var arrival: Int64
        /// The bucket after taking the cost when allowed; as it is when denied.
        public var state: BucketState
        /// The bucket as it is, before taking anything.
        public var current: BucketState
        public var retryAfterMicros: Int64
    }

    /// Decides `cost` units against a key whose stored arrival time is `stored` (nil when unknown).
    public static func evaluate(stored: Int64?, now: Int64, cost: Int, limit: RateLimit) -> Outcome {
        let period = limit.periodMicros
        let interval = Double(period) / Double(limit.limit)
        let arrival = max(stored ?? now, now)
        let proposed = arrival + Int64((Double(max(0, cost)) * interval).rounded(.up))
        let allowAt = proposed - period
        let current = BucketState(limit: limit.limit, remaining: remaining(arrival: arrival, now: now, period: period, interval: interval),
                                  reset: .microseconds(arrival - now))
        if allowAt > now {
            return Outcome(allowed: false, arrival: arrival, state: current, current: current, retryAfterMicros: allowAt - now)
        }
        let state = BucketState(limit: limit.limit, remaining: remaining(arrival: proposed, now: now, period: period, interval: interval),
                                reset: .microseconds(proposed - now))
        return Outcome(allowed: true, arrival: proposed, state: state, current: current, retryAfterMicros: 0)
    }

    /// Moves a key's arrival time by `cost` units without refusing (never below `now`).
    public static func adjusted(stored: Int64?, now: Int64, cost: Int, limit: RateLimit) -> Int64 {
        let interval = Double(limit.periodMicros) / Double(limit.limit)
        return max(now, max(stored ?? now, now) + Int64((Double(cost) * interval).rounded()))
    }

    private static func remaining(arrival: Int64, now: Int64, period: Int64, interval: Double) -> Int {
        max(0, Int((Double(period - (arrival - now)) / interval).rounded(.down)))
    }
}
