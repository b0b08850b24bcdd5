import ParleyCore
import ParleyGateway

/// The ``RateLimiter`` shared by replicas: the same GCRA rule as ``MemoryRateLimiter``, run atomically in
/// Redis scripts on Redis's clock, so every replica sees one bucket and clocks need not agree. A request
/// costs one round trip (`EVALSHA`), however many buckets it draws from.
public final class RedisRateLimiter: RateLimiter {
    public static let prefix = "parley:rl:"
    private let client: RedisClient

    public init(client: RedisClient) {
        self.client = client
    }

    public func acquire(_ buckets: [RateBucket]) async throws -> RateVerdict {
        guard !buckets.isEmpty else { return RateVerdict(allowed: true, retryAfter: nil, buckets: []) }
        var arguments: [RESPArgument] = []
        arguments.reserveCapacity(buckets.count * 3)
        for bucket in buckets {
            arguments += [.int(bucket.cost), .int(bucket.limit.limit), .text(String(bucket.limit.periodMicros))]
        }
        let reply = try await client.run(Self.acquireScript, keys: buckets.map { Self.prefix + $0.key }, arguments: arguments)
        guard let values = reply.elements?.compactMap(\.int), values.count == 2 + 2 * buckets.count else {
            throw RedisError.unexpectedReply("rate limit script returned \(reply)")
        }
        let allowed = values[0] == 1
        let states = buckets.indices.map { index in
            BucketState(limit: buckets[index].limit.limit, remaining: values[2 + 2 * index],
                        reset: .microseconds(values[3 + 2 * index]))
        }
        return RateVerdict(allowed: allowed, retryAfter: allowed ? nil : .microseconds(values[1]), buckets: states)
    }

    public func adjust(_ bucket: RateBucket) async throws {
        _ = try await client.run(Self.adjustScript, keys: [Self.prefix + bucket.key],
                                 arguments: [.int(bucket.cost), .int(bucket.limit.limit), .text(String(bucket.limit.periodMicros))])
    }

    public func hold(_ key: String, max: Int, lease: String, ttl: Duration) async throws -> Bool {
        let milliseconds = Swift.max(1, Int(ttl.wholeMilliseconds))
        let reply = try await client.run(Self.holdScript, keys: [Self.prefix + "held:" + key],
                                         arguments: [.int(max), .text(lease), .int(milliseconds)])
        return reply.int == 1
    }

    public func release(_ key: String, lease: String) async throws {
        try await client.send(["ZREM", .text(Self.prefix + "held:" + key), .text(lease)])
    }

    public func spend(_ charges: [AllowanceCharge]) async throws -> AllowanceVerdict {
        guard !charges.isEmpty else { return AllowanceVerdict(allowed: true, spent: []) }
        let arguments: [RESPArgument] = charges.flatMap { [.int(max(0, $0.amount)), .int($0.limit), .text(String($0.resetsAt))] }
        let reply = try await client.run(Self.spendScript, keys: charges.map { Self.prefix + "budget:" + $0.key }, arguments: arguments)
        guard let values = reply.elements?.compactMap(\.int), values.count == 1 + charges.count else {
            throw RedisError.unexpectedReply("budget script returned \(reply)")
        }
        return AllowanceVerdict(allowed: values[0] == 1, spent: Array(values.dropFirst()))
    }

    public func adjustSpent(_ charge: AllowanceCharge) async throws {
        _ = try await client.run(Self.adjustSpentScript, keys: [Self.prefix + "budget:" + charge.key],
                                 arguments: [.int(charge.amount), .text(String(charge.resetsAt))])
    }

    public func seedSpent(_ charge: AllowanceCharge) async throws {
        _ = try await client.run(Self.seedSpentScript, keys: [Self.prefix + "budget:" + charge.key,
                                                              Self.prefix + "budget-seeded:" + charge.key],
                                 arguments: [.int(max(0, charge.amount)), .text(String(charge.resetsAt))])
    }

    /// KEYS: allowance keys. ARGV per key: amount, limit, end of period (s). Returns allowed (1/0), then spent
    /// per key (after when allowed, before when not). Writes only when every allowance has room.
    static let spendScript = RedisScript("""
        local out = {1}
        for i = 1, #KEYS do
          local spent = tonumber(redis.call('GET', KEYS[i]) or '0')
          out[i + 1] = spent
          if spent + tonumber(ARGV[3 * i - 2]) > tonumber(ARGV[3 * i - 1]) then out[1] = 0 end
        end
        if out[1] == 1 then
          for i = 1, #KEYS do
            out[i + 1] = redis.call('INCRBY', KEYS[i], tonumber(ARGV[3 * i - 2]))
            redis.call('EXPIREAT', KEYS[i], tonumber(ARGV[3 * i]) + 60)
          end
        end
        return out
        """)

    /// KEYS[1]: allowance key. ARGV: amount (may be negative), end of period (s). Never below zero.
    static let adjustSpentScript = RedisScript("""
        local spent = redis.call('INCRBY', KEYS[1], tonumber(ARGV[1]))
        if spent < 0 then redis.call('SET', KEYS[1], '0') end
        redis.call('EXPIREAT', KEYS[1], tonumber(ARGV[2]) + 60)
        return 1
        """)

    /// KEYS: allowance key, its seeded marker. ARGV: spent before, end of period (s). Adds once per allowance.
    static let seedSpentScript = RedisScript("""
        if redis.call('SET', KEYS[2], '1', 'NX') then
          redis.call('EXPIREAT', KEYS[2], tonumber(ARGV[2]) + 60)
          redis.call('INCRBY', KEYS[1], tonumber(ARGV[1]))
          redis.call('EXPIREAT', KEYS[1], tonumber(ARGV[2]) + 60)
        end
        return 1
        """)

    /// KEYS: bucket keys. ARGV per bucket: cost, limit, period (µs). Returns allowed (1/0), retry after (µs),
    /// then remaining and reset (µs) per bucket. Writes only when every bucket allows.
    static let acquireScript = RedisScript("""
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local allowed = 1
        local retry = 0
        local arrivals = {}
        local out = {0, 0}
        local taken = {}
        local current = {}
        for i = 1, #KEYS do
          local cost = math.max(0, tonumber(ARGV[3 * i - 2]))
          local limit = tonumber(ARGV[3 * i - 1])
          local period = tonumber(ARGV[3 * i])
          local interval = period / limit
          local arrival = tonumber(redis.call('GET', KEYS[i]) or now)
          if arrival < now then arrival = now end
          local proposed = arrival + math.ceil(cost * interval)
          local allow_at = proposed - period
          current[i] = {math.max(0, math.floor((period - (arrival - now)) / interval)), arrival - now}
          taken[i] = {math.max(0, math.floor((period - (proposed - now)) / interval)), proposed - now}
          arrivals[i] = proposed
          if allow_at > now then
            allowed = 0
            if allow_at - now > retry then retry = allow_at - now end
          end
        end
        for i = 1, #KEYS do
          local state = current[i]
          if allowed == 1 then
            state = taken[i]
            redis.call('SET', KEYS[i], string.format('%d', arrivals[i]), 'PX', math.ceil((arrivals[i] - now) / 1000) + 1)
          end
          out[2 * i + 1] = state[1]
          out[2 * i + 2] = state[2]
        end
        out[1] = allowed
        out[2] = retry
        return out
        """)

    /// KEYS[1]: bucket key. ARGV: cost (may be negative), limit, period (µs).
    static let adjustScript = RedisScript("""
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local interval = tonumber(ARGV[3]) / tonumber(ARGV[2])
        local arrival = tonumber(redis.call('GET', KEYS[1]) or now)
        if arrival < now then arrival = now end
        local moved = arrival + math.floor(tonumber(ARGV[1]) * interval + 0.5)
        if moved <= now then
          redis.call('DEL', KEYS[1])
        else
          redis.call('SET', KEYS[1], string.format('%d', moved), 'PX', math.ceil((moved - now) / 1000) + 1)
        end
        return 1
        """)

    /// KEYS[1]: sorted set of leases scored by expiry (ms). ARGV: max, lease, ttl (ms).
    static let holdScript = RedisScript("""
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
        redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
        return 1
        """)
}
