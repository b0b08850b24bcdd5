import Foundation
import ParleyCore
import ParleyGateway
import ParleyMockLLM
import ParleyTestSupport
import ParleyServer
import Testing

/// Rate limits over real HTTP, on memory and on real Redis: 429s with exact waits and `RateLimit-*` headers,
/// token reservations, stream slots, one global limit across two Parley processes, and Redis outages.
@Suite struct RateLimitTests {
    static func chat(_ prompt: String, extra: String = "") -> String { OpenAIGatewayTests.chat(prompt, extra: extra) }

    @Test(arguments: SharedState.allCases)
    func requestsPerMinuteAreEnforcedWithExactWaits(_ state: SharedState) async throws {
        try await state.with { redisURL in
            try await TestParley.with(configure: {
                state.configure(&$0, redisURL: redisURL)
                $0.rateLimits.requestsPerMinute = 3
            }) { parley in
                for remaining in [2, 1, 0] {
                    let reply = try await parley.request(.POST, "/v1/chat/completions", body: Self.chat("r mock:tokens=1"))
                    #expect(reply.status == 200)
                    #expect(reply.headers["ratelimit-limit"] == "3" && reply.headers["ratelimit-remaining"] == String(remaining))
                }
                let refused = try await parley.request(.POST, "/v1/chat/completions", body: Self.chat("r mock:tokens=1"))
                #expect(refused.status == 429 && refused.errorType == "rate_limit_error")
                #expect((refused.json["error"] as? [String: Any])?["code"] as? String == "rate_limit_exceeded")
                // One request comes back every 20 s; the first of the burst went out moments ago.
                let seconds = try #require(refused.headers["retry-after"].flatMap(Int.init))
                let milliseconds = try #require(refused.headers["retry-after-ms"].flatMap(Int.init))
                #expect(milliseconds > 10_000 && milliseconds <= 20_000, "\(refused.headers)")
                #expect(seconds == (milliseconds + 999) / 1000, "Retry-After is the same wait, rounded up to whole seconds")
                #expect(refused.headers["ratelimit-remaining"] == "0" && refused.headers["ratelimit-reset"] != nil)
                #expect(parley.mockServer?.counters.snapshot["chat_completions"] == 3, "a refused request never reaches the upstream")
                // The chat API counts against the same caller (here: this machine's address).
                let conversation = try await parley.createConversation()
                let chat = try await parley.request(.POST, "/api/v1/conversations/\(conversation)/messages", body: #"{"content":"hi"}"#)
                #expect(chat.status == 429 && chat.headers["retry-after"] != nil && chat.errorType == "rate_limited")
            }
        }
    }

    @Test func theWaitIsExact() async throws {
        try await TestParley.with(configure: { $0.rateLimits.requestsPerMinute = 60 }) { parley in
            // 60 per minute: one per second after the burst.
            var refused: APIReply?
            for _ in 0..<70 {
                let reply = try await parley.request(.GET, "/v1/models")
                _ = reply
                let chat = try await parley.request(.POST, "/v1/chat/completions", body: Self.chat("w mock:tokens=1"))
                if chat.status == 429 { refused = chat; break }
            }
            let wait = try #require(refused?.headers["retry-after-ms"].flatMap(Int.init))
            #expect(wait > 0 && wait <= 1000)
            try await Task.sleep(for: .milliseconds(wait + 50))
            #expect(try await parley.request(.POST, "/v1/chat/completions", body: Self.chat("w mock:tokens=1")).status == 200)
        }
    }

    @Test func tokensAreReservedThenReconciledWithRealUsage() async throws {
        try await TestParley.with(configure: { $0.rateLimits.tokensPerMinute = 2000 }) { parley in
            // Asks for 1,500 tokens but uses 3 (+ the prompt): the reservation is given back.
            let big = Self.chat("t mock:tokens=3", extra: #","max_tokens":1500"#)
            let first = try await parley.request(.POST, "/v1/chat/completions", body: big)
            #expect(first.status == 200)
            let remaining = try #require(first.headers["ratelimit-remaining"].flatMap(Int.init))
            #expect(remaining < 500, "1,500 + the prompt are reserved at admission")
            let second = try await parley.request(.POST, "/v1/chat/completions", body: big)
            #expect(second.status == 200, "the first request's unused tokens came back: \(second.body)")
            // A request that can never fit is refused outright, not told to wait.
            let impossible = try await parley.request(.POST, "/v1/chat/completions", body: Self.chat("t", extra: #","max_tokens":5000"#))
            #expect(impossible.status == 413 && impossible.headers["retry-after"] == nil)
            #expect((impossible.json["error"] as? [String: Any])?["code"] as? String == "tokens_exceed_limit")
        }
    }

    @Test func streamsAtOnceAreLimitedAndSlotsComeBack() async throws {
        try await TestParley.with(configure: { $0.rateLimits.concurrentStreams = 1 }) { parley in
            let slow = OpenAIGatewayTests.chat("s mock:tokens=20 mock:delay_ms=50", stream: true)
            let open = try await parley.events(.POST, "/v1/chat/completions", body: slow)
            #expect(open.status == 200)
            let second = try await parley.request(.POST, "/v1/chat/completions", body: slow)
            #expect(second.status == 429 && second.body.contains("streams at once"))
            _ = try await open.rest()
            var admitted = false
            for _ in 0..<50 where !admitted {
                admitted = try await parley.request(.POST, "/v1/chat/completions", body: slow).status == 200
                if !admitted { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(admitted, "the finished stream gave its slot back")
        }
    }

    @Test func perModelLimitsSpanEveryCaller() async throws {
        try await TestParley.with(configure: {
            $0.apiKeys = ["sk-a", "sk-b"]
            $0.rateLimits.modelRequestsPerMinute = ["mock-2": 2]
        }) { parley in
            let (a, b) = (["Authorization": "Bearer sk-a"], ["Authorization": "Bearer sk-b"])
            #expect(try await parley.request(.POST, "/v1/chat/completions", body: OpenAIGatewayTests.chat("m", model: "mock-2"), headers: a).status == 200)
            #expect(try await parley.request(.POST, "/v1/chat/completions", body: OpenAIGatewayTests.chat("m", model: "mock-2"), headers: b).status == 200)
            let third = try await parley.request(.POST, "/v1/chat/completions", body: OpenAIGatewayTests.chat("m", model: "mock-2"), headers: a)
            #expect(third.status == 429 && third.body.contains("mock-2"))
            #expect(try await parley.request(.POST, "/v1/chat/completions", body: OpenAIGatewayTests.chat("m", model: "mock-1"), headers: a).status == 200)
        }
    }

    @Test(.enabled(if: RedisTestServer.enabled, "redis-server not found; set PARLEY_REQUIRE_SERVICES=1 to make this a failure"))
    func twoProcessesSharingRedisEnforceOneLimit() async throws {
        let redis = try await RedisTestServer.start()
        defer { redis.stop() }
        let configure: (inout ParleyConfig) -> Void = {
            $0.redisURL = redis.url
            $0.rateLimits.requestsPerMinute = 5
            $0.apiKeys = ["sk-shared"]
        }
        let first = try await TestParley.start(configure: configure)
        let second = try await TestParley.start(configure: configure)
        var statuses: [Int] = []
        for index in 0..<10 {
            // One service key through both processes: one caller, one limit.
            let parley = index.isMultiple(of: 2) ? first : second
            statuses.append(try await parley.request(.POST, "/v1/chat/completions", body: Self.chat("g mock:tokens=1"),
                                                     headers: ["Authorization": "Bearer sk-shared"]).status)
        }
        await first.stop()
        await second.stop()
        #expect(statuses.filter { $0 == 200 }.count == 5 && statuses.filter { $0 == 429 }.count == 5, "\(statuses)")
        #expect(Array(statuses.prefix(5)) == [200, 200, 200, 200, 200])
    }

    @Test(.enabled(if: RedisTestServer.enabled, "redis-server not found; set PARLEY_REQUIRE_SERVICES=1 to make this a failure"))
    func redisKilledMidTestFailsOpenThenRecovers() async throws {
        let redis = try await RedisTestServer.start()
        defer { redis.stop() }
        try await TestParley.with(configure: {
            $0.redisURL = redis.url
            $0.cache.backend = .redis
            $0.rateLimits.requestsPerMinute = 1000
        }) { parley in
            let body = Self.chat("outage mock:tokens=2", extra: #","temperature":0"#)
            #expect(try await parley.request(.POST, "/v1/chat/completions", body: body).headers["x-parley-cache"] == "miss")
            #expect(try await parley.request(.POST, "/v1/chat/completions", body: body).headers["x-parley-cache"] == "hit")
            #expect(try await parley.request(.GET, "/health/ready").json["redis"] as? String == "ok")

            await redis.kill()
            let started = ContinuousClock.now
            for _ in 0..<5 {
                let reply = try await parley.request(.POST, "/v1/chat/completions", body: body)
                #expect(reply.status == 200, "fail-open: served without Redis")
                #expect(reply.headers["ratelimit-limit"] == "1000", "limits still apply, from this process's memory")
            }
            #expect(ContinuousClock.now - started < .seconds(10), "no request hangs on the dead server")
            let ready = try await parley.request(.GET, "/health/ready")
            #expect(ready.status == 200 && (ready.json["redis"] as? String)?.hasPrefix("unreachable") == true)

            try await redis.resume()
            var back = false
            for _ in 0..<60 where !back {
                try await Task.sleep(for: .milliseconds(100))
                back = try await parley.request(.GET, "/health/ready").json["redis"] as? String == "ok"
            }
            #expect(back, "Parley reconnects by itself")
            // Redis restarted empty: the next answer is stored there again and served from it.
            _ = try await parley.request(.POST, "/v1/chat/completions", body: body)
            #expect(try await parley.request(.POST, "/v1/chat/completions", body: body).headers["x-parley-cache"] == "hit")
        }
    }

    @Test(.enabled(if: RedisTestServer.enabled, "redis-server not found; set PARLEY_REQUIRE_SERVICES=1 to make this a failure"))
    func failClosedRefusesWhatCannotBeChecked() async throws {
        let redis = try await RedisTestServer.start()
        defer { redis.stop() }
        try await TestParley.with(configure: {
            $0.redisURL = redis.url
            $0.redisFailure = .closed
            $0.rateLimits.requestsPerMinute = 1000
        }) { parley in
            #expect(try await parley.request(.POST, "/v1/chat/completions", body: Self.chat("c mock:tokens=1")).status == 200)
            await redis.kill()
            let refused = try await parley.request(.POST, "/v1/chat/completions", body: Self.chat("c mock:tokens=1"))
            #expect(refused.status == 503 && (refused.json["error"] as? [String: Any])?["code"] as? String == "limits_unavailable")
            #expect(try await parley.request(.GET, "/health/ready").status == 503)
        }
    }
}
