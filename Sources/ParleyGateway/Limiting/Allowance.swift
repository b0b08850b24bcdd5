import ParleyCore

/// A draw on a fixed allowance for a calendar period — a user's or a key's token budget: at most `limit` units
/// under `key` until `resetsAt`, when the period ends and the counter is forgotten. Unlike a ``RateBucket`` it does
/// not refill as time passes: spent is spent until the reset.
public struct AllowanceCharge: Sendable, Hashable {
    /// Names the allowance and its period (a new period is a new key).
    public var key: String
    /// Units to take (for ``RateLimiter/adjustSpent(_:)``, negative to give some back).
    public var amount: Int
    public var limit: Int
    /// The end of the period, in seconds since 1970 (UTC).
    public var resetsAt: Int64

    public init(key: String, amount: Int, limit: Int, resetsAt: Int64) {
        self.key = key
        self.amount = amount
        self.limit = max(0, limit)
        self.resetsAt = resetsAt
    }
}

/// What a limiter decided about allowance charges.
public struct AllowanceVerdict: Sendable, Equatable {
    /// True when every allowance had room; then all were charged. Otherwise none was.
    public var allowed: Bool
    /// Per charge, in order: the units spent in the period, after the charge when allowed, before it when not.
    public var spent: [Int]

    public init(allowed: Bool, spent: [Int]) {
        self.allowed = allowed
        self.spent = spent
    }
}
