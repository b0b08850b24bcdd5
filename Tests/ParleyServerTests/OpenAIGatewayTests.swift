import AsyncHTTPClient
import Foundation
import NIOCore
import ParleyCore
import ParleyMockLLM
import ParleyTestSupport
import ParleyProviders
import ParleyServer
import Testing

/// `/v1` over real HTTP against a real Parley in front of the mock (or a fixture server): auth, error shapes,
/// streaming, pass-through, keep-alives, and what a client sees when an upstream fails.
@Suite struct OpenAIGatewayTests {
    static let key = "sk-parley-test"

    static func chat(_ prompt: String, model: String = "mock-1", stream: Bool = false, extra: String = "") -> String {
        "{\"model\":\(quoted(model)),\"stream\":\(stream)\(extra),\"messages\":[{\"role\":\"user\",\"content\":\(quoted(prompt))}]}"
    }

    static var auth: [String: String] { ["Authorization": "Bearer \(key)"] }

    @Test func keysAreRequiredWhenConfiguredAndNeverEchoed() async throws {
        try await TestParley.with(configure: { $0.apiKeys = [Self.key, "sk-second"] }) { parley in
            // (An empty value sends no Authorization header at all.)
            for headers in [["Authorization": ""], ["Authorization": "Bearer sk-wrong"], ["Authorization": "Basic abc"]] {
                let reply = try await parley.request(.GET, "/v1/models", headers: headers)
                #expect(reply.status == 401)
                let error = try #require(reply.json["error"] as? [String: Any])
                #expect(error["code"] as? String == "invalid_api_key" && error["type"] as? String == "invalid_request_error")
                #expect(!reply.body.contains(Self.key) && !reply.body.contains("sk-second"))
            }
            #expect(try await parley.request(.GET, "/v1/models", headers: Self.auth).status == 200)
            #expect(try await parley.request(.GET, "/v1/models", headers: ["Authorization": "Bearer sk-second"]).status == 200)
            // The chat UI's own API is not behind the gateway's keys.
            #expect(try await parley.request(.GET, "/api/v1/models").status == 200)
        }
    }

    @Test func withoutKeysLoopbackClientsAreServed() async throws {
        try await TestParley.with { parley in
            let reply = try await parley.request(.GET, "/v1/models")
            #expect(reply.status == 200)
            let ids = (reply.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(ids == ["mock-1", "mock-2"])
            let one = try await parley.request(.GET, "/v1/models/mock-2")
            #expect(one.status == 200 && one.json["id"] as? String == "mock-2" && one.json["object"] as? String == "model")
            #expect(try await parley.request(.GET, "/v1/models/nope").status == 404)
        }
    }

    @Test func aCompletionNamesItsDeploymentAndAttempts() async throws {
        try await TestParley.with { parley in
            let reply = try await parley.request(.POST, "/v1/chat/completions", body: Self.chat("hi mock:tokens=3 mock:fault=500 mock:fault_times=1"))
            #expect(reply.status == 200)
            #expect(reply.headers["x-parley-deployment"] == "mock/mock-1" && reply.headers["x-parley-attempts"] == "2")
            let choice = (reply.json["choices"] as? [[String: Any]])?.first
            #expect((choice?["message"] as? [String: Any])?["content"] as? String == "Lorem ipsum dolor")
            #expect((reply.json["usage"] as? [String: Any])?["completion_tokens"] as? Int == 3)
        }
    }

    @Test func everyBadRequestGetsAnOpenAIError() async throws {
        struct Case: Sendable {
            var path = "/v1/chat/completions"
            var body: String
            var status: Int
            var param: String?
        }
        let cases = [
            Case(body: "{", status: 400),
            Case(body: "[]", status: 400),
            Case(body: #"{"messages":[{"role":"user","content":"x"}]}"#, status: 400, param: "model"),
            Case(body: #"{"model":5,"messages":[{"role":"user","content":"x"}]}"#, status: 400, param: "model"),
            Case(body: #"{"model":"mock-1"}"#, status: 400, param: "messages"),
            Case(body: #"{"model":"mock-1","messages":[]}"#, status: 400, param: "messages"),
            Case(body: #"{"model":"mock-1","messages":"hi"}"#, status: 400, param: "messages"),
            Case(body: #"{"model":"mock-1","messages":[{"role":"wizard","content":"x"}]}"#, status: 400, param: "messages[0].role"),
            Case(body: #"{"model":"mock-1","messages":[{"role":"user","content":"x"}],"temperature":3}"#, status: 400, param: "temperature"),
            Case(body: #"{"model":"mock-1","messages":[{"role":"user","content":"x"}],"temperature":"hot"}"#, status: 400, param: "temperature"),
            Case(body: #"{"model":"mock-1","messages":[{"role":"user","content":"x"}],"max_tokens":0}"#, status: 400, param: "max_tokens"),
            Case(body: #"{"model":"mock-1","messages":[{"role":"user","content":"x"}],"n":1.5}"#, status: 400, param: "n"),
            Case(body: #"{"model":"mock-1","messages":[{"role":"user","content":"x"}],"stream":"yes"}"#, status: 400, param: "stream"),
            Case(body: #"{"model":"mock-1","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}}"#, status: 400, param: "stream_options"),
            Case(body: #"{"model":"no-such","messages":[{"role":"user","content":"x"}]}"#, status: 404, param: "model"),
            Case(body: "{\"model\":\"mock-1\",\"messages\":[{\"role\":\"user\",\"content\":\"\(String(repeating: "x", count: 1 << 20))\"}]}", status: 413),
            Case(path: "/v1/embeddings", body: #"{"model":"mock-1"}"#, status: 400, param: "input"),
            Case(path: "/v1/embeddings", body: #"{"model":"mock-1","input":[]}"#, status: 400, param: "input"),
            Case(path: "/v1/embeddings", body: #"{"model":"mock-1","input":[{}]}"#, status: 400, param: "input"),
            Case(path: "/v1/embeddings", body: #"{"model":"mock-1","input":"x","encoding_format":"hex"}"#, status: 400, param: "encoding_format"),
            Case(path: "/v1/embeddings", body: #"{"input":"x"}"#, status: 400, param: "model"),
            Case(path: "/v1/embeddings", body: #"{"model":"nope","input":"x"}"#, status: 404, param: "model"),
        ]
        try await TestParley.with { parley in
            for item in cases {
                let reply = try await parley.request(.POST, item.path, body: item.body)
                let label = "\(item.path) \(item.body.prefix(120)): \(reply.status) \(reply.body.prefix(300))"
                #expect(reply.status == item.status, "\(label)")
                #expect(reply.headers["content-type"] == "application/json", "\(label)")
                let error = reply.json["error"] as? [String: Any]
                #expect((error?["message"] as? String)?.isEmpty == false, "\(label)")
                #expect(error?["type"] as? String == "invalid_request_error", "\(label)")
                if let param = item.param { #expect(error?["param"] as? String == param, "\(label)") }
            }
            #expect(parley.mockServer?.counters.snapshot["chat_completions"] == nil, "no bad request reached the upstream")
            // Unknown routes under /v1 answer in the same shape.
            let missing = try await parley.request(.GET, "/v1/nothing-here")
            #expect(missing.status == 404)
        }
    }

    @Test func aStreamArrivesAsOpenAIChunksEndingWithDone() async throws {
        try await TestParley.with { parley in
            let reader = try await parley.events(.POST, "/v1/chat/completions",
                                                 body: Self.chat("s mock:tokens=6", stream: true, extra: #","stream_options":{"include_usage":true}"#))
            #expect(reader.status == 200)
            let events = try await reader.rest()
            #expect(events.last?.rawData == "[DONE]")
            let text = events.compactMap { (($0.data["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }.joined()
            #expect(text == MockScript.replyTokens(count: 6).joined())
            let usage = events.compactMap { $0.data["usage"] as? [String: Any] }.last
            #expect(usage?["completion_tokens"] as? Int == 6)
        }
    }

    @Test func aStreamCutMidWayEndsWithAnErrorEventNotAHang() async throws {
        try await TestParley.with { parley in
            let reader = try await parley.events(.POST, "/v1/chat/completions", body: Self.chat("c mock:tokens=20 mock:fault=cut", stream: true))
            #expect(reader.status == 200)
            let events = try await reader.rest()
            let text = events.compactMap { (($0.data["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }.joined()
            #expect(text == MockScript.replyTokens(count: 10).joined(), "what arrived before the cut is delivered")
            let error = try #require(events.last?.data["error"] as? [String: Any])
            #expect(error["code"] as? String == "upstream_stream_cut")
            #expect(!events.contains { $0.rawData == "[DONE]" })
            #expect(parley.mockServer?.counters.snapshot["chat_completions"] == 1, "not retried once the client had content")
        }
    }

    @Test func aClientThatLeavesStopsTheUpstreamCall() async throws {
        try await TestParley.with { parley in
            // 2,000 tokens 20 ms apart: the mock would stream for 40 s if nobody stopped reading. The client
            // closes its connection once the first token has arrived.
            let seen = try await LeavingClient.post(port: parley.port, path: "/v1/chat/completions",
                                                    body: Self.chat("leave mock:tokens=2000 mock:delay_ms=20", stream: true),
                                                    leaveWhen: { $0.contains("\"content\":\"Lorem\"") })
            #expect(seen.hasPrefix("HTTP/1.1 200") && seen.contains("\"content\":\"Lorem\""), "\(seen.prefix(300))")
            let deadline = ContinuousClock.now + .seconds(30)
            while parley.mockServer?.counters.snapshot["streams_abandoned"] == nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(parley.mockServer?.counters.snapshot["streams_abandoned"] == 1,
                    "Parley stops reading the upstream once its client is gone")
        }
    }

    @Test func aSlowFirstTokenGetsKeepAlivesThenTheAnswer() async throws {
        try await TestParley.with(configure: { $0.keepAliveInterval = .milliseconds(200) }) { parley in
            var request = HTTPClientRequest(url: parley.baseURL + "/v1/chat/completions")
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: Self.chat("k mock:tokens=2 mock:ttft_ms=900", stream: true)))
            let response = try await parley.client.execute(request, timeout: .seconds(30))
            #expect(response.status == .ok)
            let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
            #expect(body.hasPrefix(": keep-alive\n\n"), "\(body.prefix(200))")
            #expect(body.contains(": parley deployment=mock/mock-1 attempts=1"))
            #expect(body.contains("\"content\":\"Lorem\"") && body.hasSuffix("data: [DONE]\n\n"))
        }
    }

    @Test func upstreamFailuresMapToStatusesClientsUnderstand() async throws {
        try await TestParley.with(configure: {
            $0.router.maxRetryWait = .seconds(2)
            $0.router.backoffBase = .milliseconds(10)
        }) { parley in
            let limited = try await parley.request(.POST, "/v1/chat/completions", body: Self.chat("r mock:fault=429 mock:retry_after=30", model: "mock-2"))
            #expect(limited.status == 429 && limited.headers["retry-after"] == "30")
            #expect((limited.json["error"] as? [String: Any])?["code"] as? String == "rate_limit_exceeded")

            let broken = try await parley.request(.POST, "/v1/chat/completions", body: Self.chat("b mock:fault=500"))
            #expect(broken.status == 502 && broken.headers["x-parley-attempts"] == "3")
            #expect((broken.json["error"] as? [String: Any])?["type"] as? String == "api_error")

            let timedOut = try await parley.request(.POST, "/v1/chat/completions", body: Self.chat("t mock:fault=slow", stream: true),
                                                    headers: ["x-parley-timeout": "1"])
            #expect(timedOut.status == 504)
            #expect((timedOut.json["error"] as? [String: Any])?["code"] as? String == "deadline_exceeded")
            #expect(try await parley.request(.POST, "/v1/chat/completions", body: Self.chat("x"), headers: ["x-parley-timeout": "soon"]).status == 400)
        }
    }

    @Test func aClientsTraceContextReachesTheUpstream() async throws {
        let fixtures = FixtureServer()
        let upstream = try await fixtures.start(logger: TestParley.quietLogger)
        let answer = #"{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}"#
        for _ in 0..<3 { fixtures.enqueue(.init(contentType: "application/json", body: answer), on: "/v1/chat/completions") }
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        do {
            try await TestParley.with(withUpstream: false, configure: {
                $0.upstreams = [UpstreamConfig(name: "fixed", baseURL: "http://127.0.0.1:\(upstream.port)/v1", models: ["m"])]
            }) { parley in
                let body = #"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#
                let traced = try await parley.request(.POST, "/v1/chat/completions", body: body,
                                                      headers: ["traceparent": parent, "tracestate": "vendor=abc"])
                let zeros = "00-" + String(repeating: "0", count: 32) + "-00f067aa0ba902b7-01"
                let invalid = try await parley.request(.POST, "/v1/chat/completions", body: body, headers: ["traceparent": zeros])
                let plain = try await parley.request(.POST, "/v1/chat/completions", body: body)
                #expect(traced.status == 200 && invalid.status == 200 && plain.status == 200)
                let sent = fixtures.received.withLock { $0.map(\.headers) }
                #expect(sent.count == 3)
                #expect(sent.first?["traceparent"] == parent && sent.first?["tracestate"] == "vendor=abc")
                #expect(sent.dropFirst().allSatisfy { $0["traceparent"] == nil }, "an invalid or missing one is not sent")

                // A chat turn's answer is generated by a job of its own; its upstream call carries the trace too.
                let chunk = #"{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}"#
                fixtures.enqueue(.init(contentType: "text/event-stream", body: "data: \(chunk)\n\ndata: [DONE]\n\n"),
                                 on: "/v1/chat/completions")
                let conversation = try await parley.createConversation()
                let turn = try await parley.request(.POST, "/api/v1/conversations/\(conversation)/messages", body: #"{"content":"hi","model":"m"}"#,
                                                    headers: ["Accept": "application/json", "traceparent": parent])
                #expect(turn.status == 200 || turn.status == 201, "\(turn.status) \(turn.body)")
                #expect(fixtures.received.withLock { $0.last?.headers["traceparent"] } == parent)
            }
        } catch {
            try await upstream.stop()
            throw error
        }
        try await upstream.stop()
    }

    @Test func unknownFieldsReachTheUpstreamUntouchedWithTheUpstreamsModelName() async throws {
        let fixtures = FixtureServer()
        let upstream = try await fixtures.start(logger: TestParley.quietLogger)
        fixtures.enqueue(.init(contentType: "application/json", body: #"{"id":"x","object":"chat.completion","created":1,"model":"real-name","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}"#),
                         on: "/v1/chat/completions")
        do {
            try await TestParley.with(withUpstream: false, configure: {
                $0.upstreams = [UpstreamConfig(name: "fixed", baseURL: "http://127.0.0.1:\(upstream.port)/v1", models: ["public"],
                                               upstreamNames: ["public": "real-name"])]
                $0.router.aliases = ["gpt-4o": "public"]
            }) { parley in
                let body = #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"logit_bias":{"50256":-100},"x_vendor":{"a":[1,2]},"seed":7}"#
                let reply = try await parley.request(.POST, "/v1/chat/completions", body: body)
                #expect(reply.status == 200 && reply.headers["x-parley-deployment"] == "fixed/real-name")
                let sent = try #require(fixtures.received.withLock { $0.first })
                #expect(sent.body == body.replacingOccurrences(of: #""model":"gpt-4o""#, with: #""model":"real-name""#),
                        "byte for byte but the model name")
                // Parley's own `cache` controls never reach the upstream, wherever they sit in the object.
                let withControls = [
                    (#"{"cache":{"no-store":true}, "model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"seed":8}"#,
                     #"{ "model":"real-name","messages":[{"role":"user","content":"hi"}],"seed":8}"#),
                    (#"{"model":"gpt-4o" ,"cache" : {"ttl": 60},"messages":[{"role":"user","content":"hi"}],"seed":9}"#,
                     #"{"model":"real-name","messages":[{"role":"user","content":"hi"}],"seed":9}"#),
                    (#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"cache":{"namespace":"t"}}"#,
                     #"{"model":"real-name","messages":[{"role":"user","content":"hi"}]}"#),
                ]
                for (index, (body, expected)) in withControls.enumerated() {
                    fixtures.enqueue(.init(contentType: "application/json", body: #"{"id":"x","object":"chat.completion","created":1,"model":"real-name","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}"#),
                                     on: "/v1/chat/completions")
                    #expect(try await parley.request(.POST, "/v1/chat/completions", body: body).status == 200)
                    let forwarded = fixtures.received.withLock { $0.count > index + 1 ? $0[index + 1].body : nil }
                    #expect(forwarded == expected)
                }
            }
        } catch {
            try await upstream.stop()
            throw error
        }
        try await upstream.stop()
    }

    @Test func embeddingsArePassedThrough() async throws {
        try await TestParley.with { parley in
            let reply = try await parley.request(.POST, "/v1/embeddings", body: #"{"model":"mock-1","input":["a","b"]}"#)
            #expect(reply.status == 200 && reply.headers["x-parley-deployment"] == "mock/mock-1")
            let data = try #require(reply.json["data"] as? [[String: Any]])
            #expect(data.count == 2 && (data[0]["embedding"] as? [Double])?.count == 8)
        }
    }

    @Test func theChatUIPathRetriesThroughTheSameRouter() async throws {
        try await TestParley.with { parley in
            let conversation = try await parley.createConversation()
            let events = try await parley.chat(conversation, "ui mock:tokens=4 mock:fault=500 mock:fault_times=1")
            #expect(events.last?.name == "done")
            #expect(events.last?.content == MockScript.replyTokens(count: 4).joined())
            #expect(parley.mockServer?.counters.snapshot["chat_completions"] == 2)
        }
    }

    @Test func withoutUpstreamsTheDemoModelAnswersOnV1() async throws {
        try await TestParley.with(withUpstream: false) { parley in
            let reply = try await parley.request(.POST, "/v1/chat/completions", body: Self.chat("hello", model: "demo"))
            #expect(reply.status == 200)
            let choice = (reply.json["choices"] as? [[String: Any]])?.first
            #expect(((choice?["message"] as? [String: Any])?["content"] as? String)?.contains("demo model") == true)
        }
    }
}
