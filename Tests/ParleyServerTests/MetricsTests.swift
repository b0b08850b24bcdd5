import Foundation
import ParleyMockLLM
import ParleyTestSupport
import Testing

/// `/metrics` of the real `parley serve`: what a request, a model call, a refusal and the process record, in
/// Prometheus's text format; a series count that stays the same however many keys, model names and paths
/// clients make up; the optional bearer token; and `--metrics false`.
@Suite struct MetricsTests {
    static func serve(_ workspace: BinaryWorkspace, _ extra: [String] = [], environment: [String: String] = [:]) async throws
        -> ChildProcess
    {
        try await ChildProcess.start(workspace.binary, ["serve", "--port", "0", "--database", "sqlite://\(workspace.directory)/p.db",
                                                        "--password-hash-cost", "14", "--log-level", "warning"] + extra,
                                     log: workspace.directory + "/serve.log",
                                     environment: ["PATH": "/usr/bin:/bin"].merging(environment) { $1 })
    }

    /// The series of a scrape (name and labels, without the value), minus the process's own.
    static func series(_ text: String) -> Set<String> {
        Set(text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("process_") }.map {
            String($0[..<($0.lastIndex(of: " ") ?? $0.endIndex)])
        })
    }

    static func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test func requestsCallsAndTheProcessAreMeasuredAndTheSeriesStayBounded() async throws {
        let workspace = try BinaryWorkspace("metrics")
        defer { workspace.remove() }
        var options = MockLLMServer.Options()
        options.port = 0
        options.defaults = MockScript(tokens: 5, tokenDelayMs: 0)
        let mock = try await MockLLMServer(options: options).start(logger: TestParley.quietLogger)
        defer { Task { try? await mock.stop() } }
        let server = try await Self.serve(workspace, ["--openai-base-url", "http://127.0.0.1:\(mock.port)/v1",
                                                      "--fallbacks", #"{"mock-1":["mock-2"]}"#, "--rate-limit-tpm", "10000000",
                                                      // (a title request after the chat turn would add to the counts)
                                                      "--title-model", "off"],
                                          environment: ["PARLEY_API_KEYS": "sk-metrics", "OPENAI_API_KEY": "sk-up"])
        defer { server.stop() }
        let client = TestParley.Client(baseURL: "http://127.0.0.1:\(server.port)")
        defer { Task { try? await client.shutdown() } }
        let key = ["Authorization": "Bearer sk-metrics"]
        let chat = #"{"model":"mock-1","messages":[{"role":"user","content":"hi"}]}"#
        let streamed = #"{"model":"mock-1","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#

        // One request of every kind the flood below repeats, so that each series exists before it.
        #expect(try await client.request(.POST, "/v1/chat/completions", body: chat, headers: key).status == 200)
        #expect(try await client.request(.POST, "/v1/chat/completions", body: streamed, headers: key).status == 200)
        let failing = #"{"model":"mock-1","messages":[{"role":"user","content":"mock:fault=500 mock:fault_times=3"}]}"#
        #expect(try await client.request(.POST, "/v1/chat/completions", body: failing, headers: key).status == 200,
                "every attempt at mock-1 fails; its fallback mock-2 answers")
        #expect(try await client.request(.POST, "/v1/chat/completions", body: chat.replacingOccurrences(of: "mock-1", with: "made-up-0"),
                                         headers: key).status == 404)
        #expect(try await client.request(.POST, "/v1/chat/completions", body: chat, headers: ["Authorization": "Bearer sk-wrong-0"]).status == 401)
        #expect(try await client.request(.GET, "/no-such-path-0", headers: key).status == 404)
        #expect(try await client.request(.GET, "/health/live", headers: ["Authorization": ""]).status == 200)
        let huge = #"{"model":"mock-1","max_tokens":20000000,"messages":[{"role":"user","content":"hi"}]}"#
        #expect(try await client.request(.POST, "/v1/chat/completions", body: huge, headers: key).status == 413)
        try await client.actAsAdmin()
        let conversation = try await client.createConversation()
        let turn = try await client.request(.POST, "/api/v1/conversations/\(conversation)/messages",
                                            body: #"{"content":"hello","model":"mock-1"}"#, headers: ["Accept": "application/json"])
        #expect(turn.status == 200 || turn.status == 201, "\(turn.status) \(turn.body)")

        let first = try await client.request(.GET, "/metrics", headers: ["Authorization": ""])
        #expect(first.status == 200 && first.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = first.body
        let missing = [
            #"http_server_request_duration_seconds_count{route="/v1/chat/completions",method="POST",status="2xx"} 3"#,
            #"http_server_request_duration_seconds_count{route="/v1/chat/completions",method="POST",status="4xx"} 3"#,
            #"http_server_request_duration_seconds_count{route="/api/v1/conversations/{id}/messages",method="POST",status="2xx"} 1"#,
            #"parley_limit_refusals_total{limit="too_large"} 1"#,
            #"http_server_request_duration_seconds_count{route="unmatched",method="GET",status="4xx"} 1"#,
            #"parley_answers_total{model="mock-1",outcome="completed"} 4"#,
            #"parley_answers_total{model="other",outcome="failed"} 1"#,
            #"parley_upstream_attempts_total{deployment="openai/mock-1",outcome="5xx"}"#,
            #"parley_upstream_attempts_total{deployment="openai/mock-2",outcome="ok"} 1"#,
            #"parley_upstream_fallbacks_total{model="mock-1",fallback="mock-2"} 1"#,
            #"parley_upstream_breaker_state{deployment="openai/mock-1"}"#,
            #"parley_cache_lookups_total{result="bypass"} 4"#,
            #"gen_ai_server_time_to_first_token_seconds_count{gen_ai_request_model="mock-1"} 2"#,
            #"gen_ai_client_token_usage_count{gen_ai_request_model="mock-1",gen_ai_token_type="output"} 4"#,
            #"gen_ai_client_operation_duration_seconds_bucket{gen_ai_operation_name="chat",gen_ai_request_model="mock-1",outcome="completed",le="0.01"}"#,
            "parley_generations_running 0", "parley_database_available 1", "parley_database_calls_in_flight 0",
            #"parley_database_call_duration_seconds_count{operation="userCount",outcome="ok"}"#,
        ].filter { !text.contains($0) }
        #expect(missing.isEmpty, "missing \(missing)")
        #expect((Self.value(text, "process_resident_memory_bytes") ?? 0) > 1_000_000)
        #expect((Self.value(text, "process_open_fds") ?? 0) > 3)
        #expect(!text.contains("sk-metrics") && !text.contains("sk-wrong") && !text.contains("made-up"), "no key or client-made name")
        // Once the usage of these answers is written (every 5 s), every kind of request has been seen, this
        // scrape's own included.
        var before = Set<String>()
        for _ in 0..<100 where !before.contains(where: { $0.contains(#"operation="addUsage""#) }) {
            try await Task.sleep(for: .milliseconds(100))
            before = Self.series(try await client.request(.GET, "/metrics", headers: ["Authorization": ""]).body)
        }
        before = Self.series(try await client.request(.GET, "/metrics", headers: ["Authorization": ""]).body)

        // 10,000 keys nobody issued, 500 model names nobody serves, 500 paths that do not exist.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for n in stride(from: worker, to: 10_000, by: 8) {
                        let bearer = ["Authorization": "Bearer sk-wrong-\(n)-\(UUID().uuidString)"]
                        _ = try await client.request(.POST, "/v1/chat/completions", body: chat, headers: bearer)
                        if n % 20 == 0 {
                            _ = try await client.request(.POST, "/v1/chat/completions",
                                                         body: chat.replacingOccurrences(of: "mock-1", with: "made-up-\(n)"), headers: key)
                            _ = try await client.request(.GET, "/no-such-path-\(n)", headers: key)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let after = try await client.request(.GET, "/metrics", headers: ["Authorization": ""]).body
        let added = Self.series(after).subtracting(before).sorted()
        let gone = before.subtracting(Self.series(after)).sorted()
        #expect(added.isEmpty && gone.isEmpty, "added \(added.prefix(10)), gone \(gone.prefix(10))")
        let refusals = Self.value(after, #"http_server_request_duration_seconds_count{route="/v1/chat/completions",method="POST",status="4xx"}"#)
        #expect(refusals == 10_503, "3 before, 10,000 keys, 500 model names")
        let unknownModels = Self.value(after, #"parley_answers_total{model="other",outcome="failed"}"#)
        #expect(unknownModels == 501)
    }

    @Test func aTokenGuardsTheEndpointAndTheSettingTurnsItOff() async throws {
        let workspace = try BinaryWorkspace("metrics-token")
        defer { workspace.remove() }
        let guarded = try await Self.serve(workspace, environment: ["PARLEY_METRICS_TOKEN": "scrape-secret"])
        let client = TestParley.Client(baseURL: "http://127.0.0.1:\(guarded.port)")
        let refused = try await client.request(.GET, "/metrics", headers: ["Authorization": ""])
        #expect(refused.status == 401 && refused.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
        #expect(refused.json["error"] != nil && !refused.body.contains("scrape-secret"))
        #expect(try await client.request(.GET, "/metrics", headers: ["Authorization": "Bearer not-it"]).status == 401)
        let allowed = try await client.request(.GET, "/metrics", headers: ["Authorization": "Bearer scrape-secret"])
        #expect(allowed.status == 200 && allowed.body.contains("process_cpu_seconds_total"))
        guarded.stop()
        try await client.shutdown()

        let off = try await Self.serve(workspace, ["--metrics", "false"])
        defer { off.stop() }
        let plain = TestParley.Client(baseURL: "http://127.0.0.1:\(off.port)")
        #expect(try await plain.request(.GET, "/metrics", headers: ["Authorization": ""]).status == 404)
        try await plain.shutdown()
    }
}
