import ArgumentParser
import Foundation
import ParleyCore
import ParleyGateway
import ParleyMockLLM
import ParleyTestSupport
import ParleyProviders
import ParleyRedis

/// `parley-bench limits`: what a rate-limit check and a cache lookup cost per request, in this process's
/// memory and on a real redis-server (started here): one caller in a loop (latency per call), and many
/// concurrent callers (throughput, with the RESP client pipelining them on a few connections).
struct Limits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cost per request of the rate limiter and the cache lookup.")

    @Option(help: "Calls per measure.") var calls = 200_000
    @Option(help: "Concurrent callers in the throughput measure.") var concurrency = 64
    @Option(help: "Write the Markdown report here as well as to stdout.") var output: String?

    func run() async throws {
        let redis = try await RedisTestServer.start()
        defer { redis.stop() }
        var configuration = try RedisConfiguration(url: redis.url)
        configuration.commandTimeout = .seconds(5)
        let client = RedisClient(configuration)
        defer { client.close() }

        // A request on /v1 with RPM and TPM limits draws from two buckets in one call.
        let buckets: @Sendable (Int) -> [RateBucket] = { index in
            [RateBucket(key: "key:\(index % 1000):rpm", cost: 1, limit: .perMinute(1_000_000_000)),
             RateBucket(key: "key:\(index % 1000):tpm", cost: 300, limit: .perMinute(1_000_000_000))]
        }
        let memory = MemoryRateLimiter()
        let shared = RedisRateLimiter(client: client)
        let entry = CachedResponse(form: .body, parts: [Array(repeating: 65, count: 1200)], deployment: "mock/mock-1", model: "mock-1")
        let memoryCache = MemoryResponseCache()
        let redisCache = RedisResponseCache(client: client)
        for index in 0..<1000 {
            try await memoryCache.put("k\(index)", entry, ttl: .seconds(600))
            try await redisCache.put("k\(index)", entry, ttl: .seconds(600))
        }
        let redisCalls = min(calls, 20_000)
        var rows: [(String, Measure, Measure)] = []
        rows.append(("rate limit check (2 buckets)",
                     try await Measure.run(calls: calls, concurrency: 1) { _ = try await memory.acquire(buckets($0)) },
                     try await Measure.run(calls: redisCalls, concurrency: 1) { _ = try await shared.acquire(buckets($0)) }))
        rows.append(("rate limit check, \(concurrency) callers",
                     try await Measure.run(calls: calls, concurrency: concurrency) { _ = try await memory.acquire(buckets($0)) },
                     try await Measure.run(calls: redisCalls * 5, concurrency: concurrency) { _ = try await shared.acquire(buckets($0)) }))
        rows.append(("cache lookup (1.2 KB answer)",
                     try await Measure.run(calls: calls, concurrency: 1) { _ = try await memoryCache.get("k\($0 % 1000)") },
                     try await Measure.run(calls: redisCalls, concurrency: 1) { _ = try await redisCache.get("k\($0 % 1000)") }))
        rows.append(("cache lookup, \(concurrency) callers",
                     try await Measure.run(calls: calls, concurrency: concurrency) { _ = try await memoryCache.get("k\($0 % 1000)") },
                     try await Measure.run(calls: redisCalls * 5, concurrency: concurrency) { _ = try await redisCache.get("k\($0 % 1000)") }))
        let rtt = try await Measure.run(calls: redisCalls, concurrency: 1) { _ in try await client.send(["PING"]) }

        var text = "| per request | memory: µs/call | memory: calls/s | Redis: µs/call | Redis: calls/s |\n|---|---:|---:|---:|---:|\n"
        for (name, local, remote) in rows {
            text += "| \(name) | \(local.microsPerCall) | \(local.perSecond) | \(remote.microsPerCall) | \(remote.perSecond) |\n"
        }
        text += "\nOne Redis round trip (PING) from the same client: \(rtt.microsPerCall) µs. A rate-limit check is one"
        text += " `EVALSHA` (one round trip) however many buckets it draws from; with \(concurrency) callers the client"
        text += " pipelines their commands on \(configuration.poolSize) connections, so µs/call there is wall time divided by calls.\n"
        print(text)
        fflush(nil)
        if let output { try text.write(toFile: output, atomically: true, encoding: .utf8) }
    }
}

/// Calls `body` `calls` times from `concurrency` tasks and reports the rate.
struct Measure {
    var calls: Int
    var elapsed: Duration

    var perSecond: String { String(format: "%.0f", Double(calls) / elapsed.secondsValue) }
    var microsPerCall: String { String(format: "%.2f", elapsed.secondsValue * 1e6 / Double(calls)) }

    static func run(calls: Int, concurrency: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws -> Measure {
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            let share = calls / concurrency
            for worker in 0..<concurrency {
                group.addTask {
                    for index in 0..<share { try await body(worker * share + index) }
                }
            }
            try await group.waitForAll()
        }
        return Measure(calls: calls / concurrency * concurrency, elapsed: ContinuousClock.now - started)
    }
}
