import ParleyCore
import Foundation
import Synchronization

/// The in-process ``RateLimiter``. Keys whose buckets have refilled hold no information and are dropped
/// when the table grows, so it stays bounded by the keys active within one period (and by `maxKeys`).
public final class MemoryRateLimiter: RateLimiter {
    private let state: Mutex<State>
    public let maxKeys: Int

    struct State {
        var arrivals: [String: Int64] = [:]
        var holders: [String: [String: Int64]] = [:]
        /// Allowances by key: spent units, the end of the period (seconds since 1970), and whether it was seeded.
        var allowances: [String: (spent: Int, resetsAt: Int64, seeded: Bool)] = [:]
        var operationsSinceSweep = 0
    }

    public init(maxKeys: Int = 100_000) {
        self.maxKeys = max(16, maxKeys)
        state = Mutex(State())
    }

    /// Keys held now (bucket keys, concurrency keys and allowances).
    public var keyCount: Int { state.withLock { $0.arrivals.count + $0.holders.count + $0.allowances.count } }

    static var nowSeconds: Int64 { Int64(time(nil)) }

    static var nowMicros: Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000
    }

    public func acquire(_ buckets: [RateBucket]) async throws -> RateVerdict {
        let now = Self.nowMicros
        let maxKeys = self.maxKeys
        return state.withLock { state in
            var outcomes: [GCRA.Outcome] = []
            outcomes.reserveCapacity(buckets.count)
            for bucket in buckets {
                outcomes.append(GCRA.evaluate(stored: state.arrivals[bucket.key], now: now, cost: bucket.cost, limit: bucket.limit))
            }
            let allowed = outcomes.allSatisfy(\.allowed)
            if allowed {
                for (bucket, outcome) in zip(buckets, outcomes) { state.arrivals[bucket.key] = outcome.arrival }
                Self.sweepIfNeeded(&state, now: now, maxKeys: maxKeys)
            }
            let retry = outcomes.map(\.retryAfterMicros).max() ?? 0
            return RateVerdict(allowed: allowed, retryAfter: allowed ? nil : .microseconds(retry),
                               buckets: outcomes.map { allowed ? $0.state : $0.current })
        }
    }

    public func adjust(_ bucket: RateBucket) async throws {
        let now = Self.nowMicros
        state.withLock { state in
            state.arrivals[bucket.key] = GCRA.adjusted(stored: state.arrivals[bucket.key], now: now, cost: bucket.cost, limit: bucket.limit)
        }
    }

    public func hold(_ key: String, max: Int, lease: String, ttl: Duration) async throws -> Bool {
        let now = Self.nowMicros
        let expires = now + ttl.wholeMicroseconds
        return state.withLock { state in
            var leases = state.holders[key] ?? [:]
            leases = leases.filter { $0.value > now }
            guard leases.count < max else {
                state.holders[key] = leases
                return false
            }
            leases[lease] = expires
            state.holders[key] = leases
            return true
        }
    }

    public func release(_ key: String, lease: String) async throws {
        state.withLock { state in
            state.holders[key]?[lease] = nil
            if state.holders[key]?.isEmpty == true { state.holders[key] = nil }
        }
    }

    public func spend(_ charges: [AllowanceCharge]) async throws -> AllowanceVerdict {
        let now = Self.nowSeconds
        return state.withLock { state in
            let spent = charges.map { charge in state.allowances[charge.key].flatMap { $0.resetsAt > now ? $0.spent : nil } ?? 0 }
            let allowed = zip(charges, spent).allSatisfy { charge, spent in spent + max(0, charge.amount) <= charge.limit }
            guard allowed else { return AllowanceVerdict(allowed: false, spent: spent) }
            if state.allowances.count > 4 * 1024, charges.contains(where: { state.allowances[$0.key] == nil }) {
                // Periods that ended hold nothing worth keeping.
                state.allowances = state.allowances.filter { $0.value.resetsAt > now }
            }
            for (charge, before) in zip(charges, spent) {
                let seeded = state.allowances[charge.key].map { $0.resetsAt > now && $0.seeded } ?? false
                state.allowances[charge.key] = (before + max(0, charge.amount), charge.resetsAt, seeded)
            }
            return AllowanceVerdict(allowed: true, spent: zip(charges, spent).map { $1 + max(0, $0.amount) })
        }
    }

    public func adjustSpent(_ charge: AllowanceCharge) async throws {
        let now = Self.nowSeconds
        state.withLock { state in
            let current = state.allowances[charge.key].flatMap { $0.resetsAt > now ? $0 : nil }
            state.allowances[charge.key] = (max(0, (current?.spent ?? 0) + charge.amount), charge.resetsAt, current?.seeded ?? false)
        }
    }

    public func seedSpent(_ charge: AllowanceCharge) async throws {
        let now = Self.nowSeconds
        state.withLock { state in
            let current = state.allowances[charge.key].flatMap { $0.resetsAt > now ? $0 : nil }
            guard current?.seeded != true else { return }
            state.allowances[charge.key] = ((current?.spent ?? 0) + max(0, charge.amount), charge.resetsAt, true)
        }
    }

    /// Drops refilled buckets once the table has grown by a quarter since the last sweep; past `maxKeys`
    /// drops the buckets nearest to full (being lenient with them) so memory stays capped.
    private static func sweepIfNeeded(_ state: inout State, now: Int64, maxKeys: Int) {
        state.operationsSinceSweep += 1
        guard state.arrivals.count > maxKeys || state.operationsSinceSweep > max(1024, state.arrivals.count / 4) else { return }
        state.operationsSinceSweep = 0
        state.arrivals = state.arrivals.filter { $0.value > now }
        if state.arrivals.count > maxKeys {
            let keep = state.arrivals.sorted { $0.value > $1.value }.prefix(maxKeys * 3 / 4)
            state.arrivals = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
        }
    }
}
