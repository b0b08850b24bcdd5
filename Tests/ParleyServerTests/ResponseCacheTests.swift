import Foundation
import ParleyCore
import ParleyMockLLM
import ParleyTestSupport
import ParleyServer
import Testing

/// Where the gateway's cache and limits keep their state in a test: this process's memory, or a real
/// `redis-server` started for the test.
enum SharedState: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory, redis
    var testDescription: String { rawValue }

    /// Runs `body` with a Redis URL for `.redis` (nil for memory). Without redis-server the Redis case is
    /// skipped, unless CI requires it.
    func with(_ body: (String?) async throws -> Void) async throws {
        switch self {
        case .memory:
            try await body(nil)
        case .redis:
            guard RedisTestServer.enabled else { return }
            let server = try await RedisTestServer.start()
            defer { server.stop() }
            try await body(server.url)
        }
    }

    func configure(_ config: inout ParleyConfig, redisURL: String?) {
        guard let redisURL else { return }
        config.redisURL = redisURL
        config.cache.backend = .redis
    }
}

/// The response cache on `/v1` and the chat API, on memory and on real Redis: hit/miss/bypass, controls,
/// stream replay, coalescing, expiry.
@Suite struct ResponseCacheTests {
    static func chat(_ prompt: String, stream: Bool = false, extra: String = #","temperature":0"#) -> String {
        OpenAIGatewayTests.chat(prompt, stream: stream, extra: extra)
    }

    /// POSTs to `path` and returns the `x-parley-cache` header.
    static func cacheStatus(_ parley: TestParley, _ path: String, body: String, headers: [String: String] = [:]) async throws -> String? {
        try await parley.request(.POST, path, body: body, headers: headers).headers["x-parley-cache"]
    }

    /// ``cacheStatus(_:_:body:headers:)``, with a failed request recorded as an issue (for `#expect` in
    /// closures the compiler does not treat as throwing).
    static func status(_ parley: TestParley, _ path: String, body: String, headers: [String: String] = [:]) async -> String? {
        do {
            return try await cacheStatus(parley, path, body: body, headers: headers)
        } catch {
            Issue.record("request failed: \(error)")
            return nil
        }
    }

    static func upstreamCalls(_ parley: TestParley) -> Int {
        parley.mockServer?.counters.snapshot["chat_completions"] ?? 0
    }

    @Test(arguments: SharedState.allCases)
    func deterministicRequestsHitOthersBypassAndControlsAreHonoured(_ state: SharedState) async throws {
        try await state.with { redisURL in
            try await TestParley.with(configure: { state.configure(&$0, redisURL: redisURL) }) { parley in
                let first = try await parley.request(.POST, "/v1/chat/completions", body: Self.chat("cache me mock:tokens=4"))
                #expect(first.status == 200 && first.headers["x-parley-cache"] == "miss")
                #expect((first.json["usage"] as? [String: Any])?["completion_tokens"] as? Int == 4)
                // The same request, keys in another order and spaced out, with a user field: the same entry.
                let reordered = #"{ "messages": [ {"content": "cache me mock:tokens=4", "role": "user"} ], "temperature": 0.0, "stream": false, "model": "mock-1", "user": "someone" }"#
                let hit = try await parley.request(.POST, "/v1/chat/completions", body: reordered)
                #expect(hit.status == 200 && hit.headers["x-parley-cache"] == "hit")
                #expect(hit.headers["age"] != nil && hit.headers["x-parley-deployment"] == "mock/mock-1")
                #expect(hit.headers["x-parley-attempts"] == "0")
                #expect(NSDictionary(dictionary: hit.json["choices"] as? [[String: Any]] == nil ? [:] : ["c": hit.json["choices"]!])
                    == NSDictionary(dictionary: ["c": first.json["choices"]!]), "the same answer")
                #expect((hit.json["usage"] as? [String: Any])?["total_tokens"] as? Int == 0, "a replay costs no tokens")
                #expect(Self.upstreamCalls(parley) == 1)

                // Not deterministic: bypassed, both times upstream.
                for _ in 0..<2 {
                    let random = try await parley.request(.POST, "/v1/chat/completions", body: Self.chat("random mock:tokens=2", extra: ""))
                    #expect(random.headers["x-parley-cache"] == "bypass")
                }
                #expect(Self.upstreamCalls(parley) == 3)
                // Opting in by header, then by body (LiteLLM's shape, which never reaches the upstream).
                let optIn = ["x-parley-cache-control": "store"]
                #expect(try await Self.cacheStatus(parley, "/v1/chat/completions", body: Self.chat("opt mock:tokens=2", extra: ""), headers: optIn) == "miss")
                #expect(try await Self.cacheStatus(parley, "/v1/chat/completions", body: Self.chat("opt mock:tokens=2", extra: ""), headers: optIn) == "hit")
                let bodyOptIn = Self.chat("body opt mock:tokens=2", extra: #","cache":{"ttl":600}"#)
                #expect(try await Self.cacheStatus(parley, "/v1/chat/completions", body: bodyOptIn) == "miss")
                #expect(try await Self.cacheStatus(parley, "/v1/chat/completions", body: bodyOptIn) == "hit")
                #expect(Self.upstreamCalls(parley) == 5)

                // no-cache goes upstream and refreshes the entry; no-store answers without storing.
                let fresh = try await parley.request(.POST, "/v1/chat/completions", body: Self.chat("cache me mock:tokens=4"),
                                                     headers: ["x-parley-cache-control": "no-cache"])
                #expect(fresh.headers["x-parley-cache"] == "miss" && Self.upstreamCalls(parley) == 6)
                let unstored = Self.chat("nostore mock:tokens=2", extra: #","temperature":0,"cache":{"no-store":true}"#)
                #expect(try await Self.cacheStatus(parley, "/v1/chat/completions", body: unstored) == "miss")
                #expect(try await Self.cacheStatus(parley, "/v1/chat/completions", body: unstored) == "miss")
                #expect(Self.upstreamCalls(parley) == 8)

                // A named namespace is separate from the caller's own.
                let named = try await parley.request(.POST, "/v1/chat/completions", body: Self.chat("cache me mock:tokens=4"),
                                                     headers: ["x-parley-cache-namespace": "team-a"])
                #expect(named.headers["x-parley-cache"] == "miss")

                // Bad controls are 400s naming what is wrong.
                for (body, headers) in [(Self.chat("x", extra: #","cache":{"ttl":-1}"#), [String: String]()),
                                        (Self.chat("x", extra: #","cache":{"bogus":true}"#), [:]),
                                        (Self.chat("x", extra: #","cache":"yes""#), [:]),
                                        (Self.chat("x"), ["x-parley-cache-control": "sometimes"]),
                                        (Self.chat("x"), ["x-parley-cache-control": "ttl=abc"]),
                                        (Self.chat("x"), ["x-parley-cache-namespace": "has space"])] {
                    let reply = try await parley.request(.POST, "/v1/chat/completions", body: body, headers: headers)
                    #expect(reply.status == 400 && reply.errorType == "invalid_request_error", "\(body) \(headers): \(reply.body)")
                }
            }
        }
    }

    @Test(arguments: SharedState.allCases)
    func aStreamIsReplayedChunkForChunk(_ state: SharedState) async throws {
        try await state.with { redisURL in
            try await TestParley.with(configure: { state.configure(&$0, redisURL: redisURL) }) { parley in
                let body = Self.chat("replay mock:tokens=12", stream: true, extra: #","temperature":0,"stream_options":{"include_usage":true}"#)
                let first = try await parley.events(.POST, "/v1/chat/completions", body: body)
                #expect(first.headers["x-parley-cache"] == "miss")
                let original = try await first.rest().map(\.rawData)
                let second = try await parley.events(.POST, "/v1/chat/completions", body: body)
                #expect(second.headers["x-parley-cache"] == "hit")
                let replay = try await second.rest().map(\.rawData)
                #expect(replay.count == original.count && original.count >= 14, "every chunk, then [DONE]")
                #expect(replay.last == "[DONE]")
                // Chunk for chunk the same, but for the usage chunk, whose counts are zero in a replay.
                for (a, b) in zip(original, replay) where !a.contains("\"usage\":{") { #expect(a == b) }
                #expect(replay.contains { $0.contains(#""total_tokens":0"#) })
                #expect(Self.upstreamCalls(parley) == 1)
                // A non-streamed request is a different entry.
                let whole = try await parley.request(.POST, "/v1/chat/completions", body: Self.chat("replay mock:tokens=12"))
                #expect(whole.headers["x-parley-cache"] == "miss")
            }
        }
    }

    @Test(arguments: SharedState.allCases)
    func identicalRequestsInFlightGoUpstreamOnce(_ state: SharedState) async throws {
        try await state.with { redisURL in
            try await TestParley.with(configure: { state.configure(&$0, redisURL: redisURL) }) { parley in
                // Eight at once, each waiting 800 ms for its first token: one upstream call serves them all.
                let body = Self.chat("together mock:tokens=5 mock:ttft_ms=800")
                let replies = try await withThrowingTaskGroup(of: APIReply.self) { group in
                    for _ in 0..<8 { group.addTask { try await parley.request(.POST, "/v1/chat/completions", body: body) } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(replies.allSatisfy { $0.status == 200 })
                #expect(Self.upstreamCalls(parley) == 1)
                let contents = replies.map { (($0.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String }
                #expect(Set(contents).count == 1 && contents[0] == MockScript.replyTokens(count: 5).joined())
                #expect(replies.filter { $0.headers["x-parley-coalesced"] == "true" || $0.headers["x-parley-cache"] == "hit" }.count == 7)

                // Streams too: every client gets every chunk, live.
                let streamBody = Self.chat("together stream mock:tokens=8 mock:ttft_ms=800 mock:delay_ms=20", stream: true)
                let streams = try await withThrowingTaskGroup(of: [String].self) { group in
                    for _ in 0..<6 {
                        group.addTask { try await parley.events(.POST, "/v1/chat/completions", body: streamBody).rest().map(\.rawData) }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(Self.upstreamCalls(parley) == 2)
                #expect(Set(streams).count == 1, "every client got the same chunks")
                #expect(streams[0].count >= 9 && streams[0].last == "[DONE]", "\(streams[0])")
            }
        }
    }

    @Test(arguments: SharedState.allCases)
    func entriesExpireAfterTheirTTL(_ state: SharedState) async throws {
        try await state.with { redisURL in
            try await TestParley.with(configure: { state.configure(&$0, redisURL: redisURL) }) { parley in
                let headers = ["x-parley-cache-control": "ttl=1"]
                let body = Self.chat("short lived mock:tokens=2")
                #expect(try await Self.cacheStatus(parley, "/v1/chat/completions", body: body, headers: headers) == "miss")
                #expect(try await Self.cacheStatus(parley, "/v1/chat/completions", body: body, headers: headers) == "hit")
                try await Task.sleep(for: .milliseconds(1300))
                #expect(try await Self.cacheStatus(parley, "/v1/chat/completions", body: body, headers: headers) == "miss")
                #expect(Self.upstreamCalls(parley) == 2)
            }
        }
    }

    @Test func embeddingsAreCachedAndCacheOffBypassesEverything() async throws {
        try await TestParley.with(configure: { _ in }) { parley in
            let body = #"{"model":"mock-1","input":["a","b"]}"#
            #expect(await Self.status(parley, "/v1/embeddings", body: body) == "miss")
            #expect(await Self.status(parley, "/v1/embeddings", body: body) == "hit")
            #expect(parley.mockServer?.counters.snapshot["embeddings"] == 1)
        }
        try await TestParley.with(configure: { $0.cache.backend = .off }) { parley in
            for _ in 0..<2 {
                #expect(await Self.status(parley, "/v1/chat/completions", body: Self.chat("off mock:tokens=2")) == "bypass")
            }
            #expect(Self.upstreamCalls(parley) == 2)
        }
    }

    @Test func keysDoNotShareEntriesUnlessTheyNameANamespace() async throws {
        try await TestParley.with(configure: { $0.apiKeys = ["sk-a", "sk-b"] }) { parley in
            let body = Self.chat("per key mock:tokens=2")
            let (a, b) = (["Authorization": "Bearer sk-a"], ["Authorization": "Bearer sk-b"])
            #expect(await Self.status(parley, "/v1/chat/completions", body: body, headers: a) == "miss")
            #expect(await Self.status(parley, "/v1/chat/completions", body: body, headers: b) == "miss")
            #expect(await Self.status(parley, "/v1/chat/completions", body: body, headers: a) == "hit")
            let sharedA = ["Authorization": "Bearer sk-a", "x-parley-cache-namespace": "team"]
            let sharedB = ["Authorization": "Bearer sk-b", "x-parley-cache-namespace": "team"]
            #expect(await Self.status(parley, "/v1/chat/completions", body: body, headers: sharedA) == "miss")
            #expect(await Self.status(parley, "/v1/chat/completions", body: body, headers: sharedB) == "hit")
        }
    }
}
