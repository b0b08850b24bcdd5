import CoreMetrics
import ParleyCore
import Logging
import Synchronization

/// What to do when the shared backend (Redis) behind the cache and the limiter cannot be reached.
public enum SharedBackendFailure: String, Sendable, CaseIterable {
    /// Keep serving: limits fall back to this process's memory (each replica then limits on its own), the
    /// cache to this process's memory. Logged once per outage and counted.
    case open
    /// Refuse what cannot be checked: requests subject to limits get a 503; the cache is bypassed.
    case closed
}

/// Notices the shared backend going down and coming back: logs each once, counts the calls served by the
/// fallback, and says whether a failed call may fall back.
public final class OutageTracker: Sendable {
    public let mode: SharedBackendFailure
    private let logger: Logger
    private let down = Atomic<Bool>(false)
    private let fallbacks = Atomic<Int>(0)
    private let outages = Atomic<Int>(0)

    public init(mode: SharedBackendFailure, logger: Logger) {
        self.mode = mode
        self.logger = logger
    }

    /// True while the last call failed.
    public var isDown: Bool { down.load(ordering: .relaxed) }
    /// Calls served by the in-process fallback (fail-open) or refused (fail-closed) since start.
    public var fallbackCount: Int { fallbacks.load(ordering: .relaxed) }
    /// Outages seen since start.
    public var outageCount: Int { outages.load(ordering: .relaxed) }

    func succeeded() {
        if down.load(ordering: .relaxed), down.exchange(false, ordering: .relaxed) {
            logger.notice("Redis is reachable again; shared cache and limits are back")
        }
    }

    /// Records a failure. Fail-open: returns, and the caller falls back. Fail-closed: throws ``ParleyError/unavailable(_:)``.
    private static let fallbackCounter = Counter(label: MetricName.redisFallbacks)

    func failed(_ error: any Error) throws {
        fallbacks.add(1, ordering: .relaxed)
        Self.fallbackCounter.increment()
        if !down.exchange(true, ordering: .relaxed) {
            outages.add(1, ordering: .relaxed)
            logger.warning(mode == .open
                ? "Redis is unavailable; cache and rate limits fall back to this process's memory until it is back"
                : "Redis is unavailable; requests that need rate limits are refused until it is back",
                metadata: ["error": "\(error)"])
        }
        if mode == .closed { throw ParleyError.unavailable("rate limits cannot be checked now (Redis is unavailable)") }
    }

    /// Runs `primary`; when it fails, records the outage and runs `fallback` (fail-open) or throws
    /// ``ParleyError/unavailable(_:)`` (fail-closed).
    func run<T>(_ primary: () async throws -> T, fallback: () async throws -> T) async throws -> T {
        do {
            let value = try await primary()
            succeeded()
            return value
        } catch {
            try failed(error)
            return try await fallback()
        }
    }
}

/// A ``ResponseCache`` on a shared backend with an in-process fallback. Fail-open uses the fallback while
/// the backend is down; fail-closed treats every lookup as a miss and stores nothing (the cache is bypassed,
/// never an error).
public struct FailoverResponseCache: ResponseCache {
    public let primary: any ResponseCache
    public let fallback: any ResponseCache
    public let tracker: OutageTracker

    public init(primary: any ResponseCache, fallback: any ResponseCache, tracker: OutageTracker) {
        self.primary = primary
        self.fallback = fallback
        self.tracker = tracker
    }

    public var maxEntryBytes: Int { primary.maxEntryBytes }

    public func get(_ key: String) async throws -> CachedResponse? {
        do {
            return try await tracker.run({ try await primary.get(key) }, fallback: { try await fallback.get(key) })
        } catch is ParleyError {
            return nil
        }
    }

    public func put(_ key: String, _ response: CachedResponse, ttl: Duration) async throws {
        do {
            try await tracker.run({ try await primary.put(key, response, ttl: ttl) },
                                  fallback: { try await fallback.put(key, response, ttl: ttl) })
        } catch is ParleyError {
            return
        }
    }
}

/// A ``RateLimiter`` on a shared backend with an in-process fallback; see ``SharedBackendFailure``.
public struct FailoverRateLimiter: RateLimiter {
    public let primary: any RateLimiter
    public let fallback: any RateLimiter
    public let tracker: OutageTracker

    public init(primary: any RateLimiter, fallback: any RateLimiter, tracker: OutageTracker) {
        self.primary = primary
        self.fallback = fallback
        self.tracker = tracker
    }

    public func acquire(_ buckets: [RateBucket]) async throws -> RateVerdict {
        try await tracker.run({ try await primary.acquire(buckets) }, fallback: { try await fallback.acquire(buckets) })
    }

    public func adjust(_ bucket: RateBucket) async throws {
        try await tracker.run({ try await primary.adjust(bucket) }, fallback: { try await fallback.adjust(bucket) })
    }

    public func hold(_ key: String, max: Int, lease: String, ttl: Duration) async throws -> Bool {
        try await tracker.run({ try await primary.hold(key, max: max, lease: lease, ttl: ttl) },
                              fallback: { try await fallback.hold(key, max: max, lease: lease, ttl: ttl) })
    }

    public func spend(_ charges: [AllowanceCharge]) async throws -> AllowanceVerdict {
        try await tracker.run({ try await primary.spend(charges) }, fallback: { try await fallback.spend(charges) })
    }

    public func adjustSpent(_ charge: AllowanceCharge) async throws {
        try await tracker.run({ try await primary.adjustSpent(charge) }, fallback: { try await fallback.adjustSpent(charge) })
    }

    public func seedSpent(_ charge: AllowanceCharge) async throws {
        try await tracker.run({ try await primary.seedSpent(charge) }, fallback: { try await fallback.seedSpent(charge) })
    }

    public func release(_ key: String, lease: String) async throws {
        // Release on both: the lease was taken on whichever answered at the time.
        try? await fallback.release(key, lease: lease)
        do {
            try await primary.release(key, lease: lease)
        } catch {
            try? tracker.failed(error)
        }
    }
}
