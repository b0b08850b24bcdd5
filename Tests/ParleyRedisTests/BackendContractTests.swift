import Foundation
import Logging
import ParleyCore
import ParleyGateway
import ParleyMockLLM
import ParleyTestSupport
import ParleyRedis
import Testing

/// One contract for every ``ResponseCache`` and ``RateLimiter``: the in-process backends and the Redis ones
/// on a real `redis-server`.
@Suite struct BackendContractTests {
    enum Backend: String, CaseIterable, CustomTestStringConvertible {
        case memory, redis
        var testDescription: String { rawValue }
    }

    /// Runs `body` with a cache and a limiter of the given kind; Redis ones get a server of their own.
    static func withBackends(_ backend: Backend, _ body: (any ResponseCache, any RateLimiter) async throws -> Void) async throws {
        switch backend {
        case .memory:
            try await body(MemoryResponseCache(maxEntries: 100, maxBytes: 1 << 20, maxEntryBytes: 64 << 10), MemoryRateLimiter())
        case .redis:
            guard RedisTestServer.enabled else { return }
            let server = try await RedisTestServer.start()
            defer { server.stop() }
            let client = RedisClient(try RedisConfiguration(url: server.url))
            defer { client.close() }
            try await body(RedisResponseCache(client: client, maxEntryBytes: 64 << 10), RedisRateLimiter(client: client))
        }
    }

    static let answer = CachedResponse(form: .stream, parts: [Array("{\"a\":1}".utf8), [], Array("{\"b\":\"ünï\"}".utf8)],
                                       deployment: "mock/gpt", model: "gpt", storedAt: 1_700_000_000)

    @Test(arguments: Backend.allCases)
    func cacheStoresExpiresAndRefusesOversizedEntries(_ backend: Backend) async throws {
        try await Self.withBackends(backend) { cache, _ in
            #expect(try await cache.get("k1") == nil)
            try await cache.put("k1", Self.answer, ttl: .seconds(60))
            #expect(try await cache.get("k1") == Self.answer)
            let replaced = CachedResponse(form: .body, parts: [Array("{}".utf8)], deployment: "d", model: "m")
            try await cache.put("k1", replaced, ttl: .seconds(60))
            #expect(try await cache.get("k1") == replaced)
            try await cache.put("short", Self.answer, ttl: .milliseconds(300))
            try await Task.sleep(for: .milliseconds(700))
            #expect(try await cache.get("short") == nil, "expired")
            #expect(try await cache.get("k1") == replaced)
            let huge = CachedResponse(form: .body, parts: [Array(repeating: 65, count: 70 << 10)], deployment: "d", model: "m")
            try await cache.put("huge", huge, ttl: .seconds(60))
            #expect(try await cache.get("huge") == nil, "entries over maxEntryBytes are not stored")
        }
    }

    @Test func memoryCacheEvictsLeastRecentlyUsedAndStaysUnderItsCaps() async throws {
        let cache = MemoryResponseCache(maxEntries: 1000, maxBytes: 64 << 10, maxEntryBytes: 8 << 10)
        let entry = CachedResponse(form: .body, parts: [Array(repeating: 66, count: 1000)], deployment: "d", model: "m")
        try await cache.put("keep", entry, ttl: .seconds(60))
        for index in 0..<500 {
            try await cache.put("k\(index)", entry, ttl: .seconds(60))
            _ = try await cache.get("keep")
            #expect(cache.statistics.bytes <= 64 << 10)
        }
        #expect(try await cache.get("keep") == entry, "recently used entries survive")
        #expect(try await cache.get("k0") == nil, "the least recently used went first")
        #expect(try await cache.get("k499") == entry)
        let stats = cache.statistics
        #expect(stats.evictions > 400 && stats.entries < 100)
        let byCount = MemoryResponseCache(maxEntries: 10, maxBytes: 1 << 20)
        for index in 0..<50 { try await byCount.put("k\(index)", entry, ttl: .seconds(60)) }
        #expect(byCount.statistics.entries == 10)
    }

    @Test func cachedResponsesSurviveEncoding() {
        #expect(CachedResponse(decoding: Self.answer.encoded()) == Self.answer)
        #expect(CachedResponse(decoding: Array(Self.answer.encoded().dropLast())) == nil)
        #expect(CachedResponse(decoding: Array("junk".utf8)) == nil)
    }

    @Test(arguments: Backend.allCases)
    func limiterAllowsABurstThenRefusesWithAnExactRetryAfter(_ backend: Backend) async throws {
        try await Self.withBackends(backend) { _, limiter in
            // An hour-long period, so the bucket cannot refill noticeably while a loaded machine runs the test.
            let slow = RateLimit(limit: 5, period: .seconds(3600))
            for expected in (0..<5).reversed() {
                let verdict = try await limiter.acquire([RateBucket(key: "burst", cost: 1, limit: slow)])
                #expect(verdict.allowed)
                #expect(verdict.buckets.first?.remaining == expected)
            }
            let refused = try await limiter.acquire([RateBucket(key: "burst", cost: 1, limit: slow)])
            #expect(!refused.allowed && refused.buckets.first?.remaining == 0)
            let wait = try #require(refused.retryAfter)
            #expect(wait > .seconds(700) && wait <= .seconds(720), "one unit comes back every 720 s")

            // The wait is exact: refused shortly before it ends, allowed right after.
            let limit = RateLimit(limit: 1, period: .seconds(3))
            #expect(try await limiter.acquire([RateBucket(key: "exact", cost: 1, limit: limit)]).allowed)
            let second = try await limiter.acquire([RateBucket(key: "exact", cost: 1, limit: limit)])
            let retry = try #require(second.retryAfter)
            #expect(!second.allowed && retry > .seconds(1) && retry <= .seconds(3))
            try await Task.sleep(for: retry - .milliseconds(600))
            #expect(!(try await limiter.acquire([RateBucket(key: "exact", cost: 1, limit: limit)])).allowed, "not before")
            try await Task.sleep(for: .milliseconds(700))
            #expect(try await limiter.acquire([RateBucket(key: "exact", cost: 1, limit: limit)]).allowed, "right after")
        }
    }

    @Test(arguments: Backend.allCases)
    func limiterTakesAllBucketsOrNoneAndReconciles(_ backend: Backend) async throws {
        try await Self.withBackends(backend) { _, limiter in
            let requests = RateLimit(limit: 10, period: .seconds(3600))
            let tokens = RateLimit(limit: 1000, period: .seconds(3600))
            let first = try await limiter.acquire([RateBucket(key: "u:rpm", cost: 1, limit: requests),
                                                   RateBucket(key: "u:tpm", cost: 900, limit: tokens)])
            #expect(first.allowed && first.buckets.map(\.remaining) == [9, 100])
            #expect(first.tightest?.remaining == 100)
            let tooMany = try await limiter.acquire([RateBucket(key: "u:rpm", cost: 1, limit: requests),
                                                     RateBucket(key: "u:tpm", cost: 200, limit: tokens)])
            #expect(!tooMany.allowed)
            #expect(tooMany.buckets.map(\.remaining) == [9, 100], "a refused request takes nothing from any bucket")
            // The answer used 300 tokens, not 900: 600 come back.
            try await limiter.adjust(RateBucket(key: "u:tpm", cost: -600, limit: tokens))
            let after = try await limiter.acquire([RateBucket(key: "u:rpm", cost: 1, limit: requests),
                                                   RateBucket(key: "u:tpm", cost: 200, limit: tokens)])
            #expect(after.allowed && after.buckets.map(\.remaining) == [8, 500])
            try await limiter.adjust(RateBucket(key: "u:tpm", cost: 500, limit: tokens))
            let drained = try await limiter.acquire([RateBucket(key: "u:tpm", cost: 1, limit: tokens)])
            #expect(!drained.allowed, "charges after the fact are never refused, and count")
            let other = try await limiter.acquire([RateBucket(key: "v:rpm", cost: 1, limit: requests)])
            #expect(other.allowed && other.buckets.first?.remaining == 9, "keys are independent")
        }
    }

    @Test(arguments: Backend.allCases)
    func concurrencySlotsAreHeldAndReleased(_ backend: Backend) async throws {
        try await Self.withBackends(backend) { _, limiter in
            #expect(try await limiter.hold("streams", max: 2, lease: "a", ttl: .seconds(60)))
            #expect(try await limiter.hold("streams", max: 2, lease: "b", ttl: .milliseconds(1500)))
            #expect(!(try await limiter.hold("streams", max: 2, lease: "c", ttl: .seconds(60))))
            try await limiter.release("streams", lease: "a")
            #expect(try await limiter.hold("streams", max: 2, lease: "c", ttl: .seconds(60)))
            #expect(!(try await limiter.hold("streams", max: 2, lease: "d", ttl: .seconds(60))))
            try await Task.sleep(for: .milliseconds(2000))
            #expect(try await limiter.hold("streams", max: 2, lease: "d", ttl: .seconds(60)), "an expired lease frees its slot")
        }
    }

    @Test(arguments: Backend.allCases)
    func allowancesChargeAllOrNothingAdjustAndSeedOnce(_ backend: Backend) async throws {
        try await Self.withBackends(backend) { _, limiter in
            let resets = Int64(Date().timeIntervalSince1970) + 3600
            let user = AllowanceCharge(key: "user:u1:d1", amount: 600, limit: 1000, resetsAt: resets)
            let key = AllowanceCharge(key: "key:k1:d1", amount: 600, limit: 700, resetsAt: resets)
            #expect(try await limiter.spend([user, key]) == AllowanceVerdict(allowed: true, spent: [600, 600]))
            // The key has 100 left: the whole charge is refused and the user's allowance is not touched.
            var second = key
            second.amount = 200
            #expect(try await limiter.spend([user.with(amount: 200), second]) == AllowanceVerdict(allowed: false, spent: [600, 600]))
            #expect(try await limiter.spend([user.with(amount: 400)]) == AllowanceVerdict(allowed: true, spent: [1000]))
            #expect(try await limiter.spend([user.with(amount: 1)]).allowed == false, "spent is spent until the reset")
            // Settling gives back what was reserved and not used, never below zero.
            try await limiter.adjustSpent(user.with(amount: -300))
            #expect(try await limiter.spend([user.with(amount: 0)]).spent == [700])
            try await limiter.adjustSpent(user.with(amount: -5000))
            #expect(try await limiter.spend([user.with(amount: 0)]).spent == [0])
            // A seed adds what was spent before, once: on top of a charge that came first, and never twice.
            let fresh = AllowanceCharge(key: "user:u2:d1", amount: 250, limit: 1000, resetsAt: resets)
            _ = try await limiter.spend([fresh.with(amount: 10)])
            try await limiter.seedSpent(fresh)
            try await limiter.seedSpent(fresh.with(amount: 900))
            #expect(try await limiter.spend([fresh.with(amount: 0)]).spent == [260])
            // A period that has ended starts again from nothing under its own key; the old one is forgotten.
            let ended = AllowanceCharge(key: "user:u3:d0", amount: 10, limit: 10, resetsAt: Int64(Date().timeIntervalSince1970) - 120)
            _ = try await limiter.spend([ended])
            #expect(try await limiter.spend([ended.with(amount: 0)]).spent == [0], "\(backend)")
        }
    }

    /// Many concurrent charges against one allowance never spend past its limit.
    @Test(arguments: Backend.allCases)
    func concurrentChargesNeverOverspend(_ backend: Backend) async throws {
        try await Self.withBackends(backend) { _, limiter in
            let charge = AllowanceCharge(key: "user:race:d1", amount: 7, limit: 500,
                                         resetsAt: Int64(Date().timeIntervalSince1970) + 3600)
            let granted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<200 { group.addTask { try await limiter.spend([charge]).allowed } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(granted == 500 / 7)
            #expect(try await limiter.spend([charge.with(amount: 0)]).spent == [granted * 7])
        }
    }

    @Test func memoryLimiterDropsRefilledKeys() async throws {
        let limiter = MemoryRateLimiter(maxKeys: 1000)
        let limit = RateLimit(limit: 100, period: .milliseconds(50))
        for index in 0..<5000 {
            _ = try await limiter.acquire([RateBucket(key: "ip:\(index)", cost: 1, limit: limit)])
            if index == 2000 { try await Task.sleep(for: .milliseconds(60)) }
        }
        #expect(limiter.keyCount <= 1000)
    }

    @Test(.enabled(if: RedisTestServer.enabled, "redis-server not found"))
    func failOpenFallsBackToMemoryAndComesBack() async throws {
        let server = try await RedisTestServer.start()
        defer { server.stop() }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let client = RedisClient(try RedisConfiguration(url: server.url))
        defer { client.close() }
        let open = OutageTracker(mode: .open, logger: logger)
        let cache = FailoverResponseCache(primary: RedisResponseCache(client: client), fallback: MemoryResponseCache(), tracker: open)
        let limiter = FailoverRateLimiter(primary: RedisRateLimiter(client: client), fallback: MemoryRateLimiter(), tracker: open)
        let closedLimiter = FailoverRateLimiter(primary: RedisRateLimiter(client: client), fallback: MemoryRateLimiter(),
                                                tracker: OutageTracker(mode: .closed, logger: logger))
        let bucket = RateBucket(key: "k", cost: 1, limit: .perMinute(100))
        try await cache.put("shared", Self.answer, ttl: .seconds(60))
        #expect(try await limiter.acquire([bucket]).allowed)
        await server.kill()
        #expect(try await cache.get("shared") == nil, "Redis's entries are out of reach")
        try await cache.put("local", Self.answer, ttl: .seconds(60))
        #expect(try await cache.get("local") == Self.answer, "the fallback serves meanwhile")
        #expect(try await limiter.acquire([bucket]).allowed)
        #expect(open.isDown && open.outageCount == 1 && open.fallbackCount >= 3)
        await #expect(throws: ParleyError.self) { try await closedLimiter.acquire([bucket]) }
        try await server.resume()
        var back = false
        for _ in 0..<50 where !back {
            try await Task.sleep(for: .milliseconds(100))
            _ = try await limiter.acquire([bucket])
            back = !open.isDown
        }
        #expect(back, "the limiter returns to Redis by itself")
        try await cache.put("shared", Self.answer, ttl: .seconds(60))
        #expect(try await cache.get("shared") == Self.answer)
    }
}

extension AllowanceCharge {
    func with(amount: Int) -> AllowanceCharge {
        var copy = self
        copy.amount = amount
        return copy
    }
}
