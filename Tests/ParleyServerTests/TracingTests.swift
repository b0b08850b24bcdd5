import Foundation
import ParleyTestSupport
import Testing

/// OpenTelemetry traces of the real `parley serve`, exported to a collector over OTLP/HTTP: the spans of a `/v1`
/// call and of a chat turn, how they nest under the client's `traceparent`, what upstreams receive, that message
/// text never leaves in a span, that the last spans are flushed on shutdown, and the settings that are refused.
@Suite struct TracingTests {
    /// One exported span, from OTLP's JSON encoding.
    struct ExportedSpan {
        let traceID: String
        let spanID: String
        let parentID: String
        let name: String
        /// 1 internal, 2 server, 3 client.
        let kind: Int
        let attributes: [String: String]
        let failed: Bool
    }

    static func serve(_ workspace: BinaryWorkspace, upstream: Int, environment: [String: String]) async throws -> ChildProcess {
        let upstreams = #"[{"name":"fixed","base_url":"http://127.0.0.1:\#(upstream)/v1","models":["m"]}]"#
        return try await ChildProcess.start(
            workspace.binary, ["serve", "--port", "0", "--database", "sqlite://\(workspace.directory)/p.db", "--upstreams", upstreams,
                               // (the upstream serves a fixed number of answers: none for a title)
                               "--password-hash-cost", "14", "--log-level", "warning", "--title-model", "off"],
            log: workspace.directory + "/serve.log", environment: ["PATH": "/usr/bin:/bin"].merging(environment) { $1 })
    }

    @Test func callsAndTurnsAreSpansInTheClientsTraceAndTheirUpstreamCallsCarryThem() async throws {
        let workspace = try BinaryWorkspace("tracing")
        defer { workspace.remove() }
        let collector = FixtureServer()
        for _ in 0..<50 { collector.enqueue(.init(contentType: "application/json", body: "{}"), on: "/v1/traces") }
        let collecting = try await collector.start(logger: TestParley.quietLogger)
        defer { Task { try? await collecting.stop() } }
        let upstream = FixtureServer()
        let upstreamService = try await upstream.start(logger: TestParley.quietLogger)
        defer { Task { try? await upstreamService.stop() } }
        let secretAnswer = "zebra-answer-71"
        let completion = #"{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"\#(secretAnswer)"},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}"#
        upstream.enqueue(.init(status: 500, contentType: "application/json", body: #"{"error":{"message":"down"}}"#), on: "/v1/chat/completions")
        upstream.enqueue(.init(contentType: "application/json", body: completion), on: "/v1/chat/completions")
        let chunk = #"{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"\#(secretAnswer)"},"finish_reason":"stop"}]}"#
        upstream.enqueue(.init(contentType: "text/event-stream", body: "data: \(chunk)\n\ndata: [DONE]\n\n"), on: "/v1/chat/completions")

        // A schedule delay far beyond the test: every span reaches the collector in the flush at shutdown.
        let server = try await Self.serve(workspace, upstream: upstreamService.port, environment: [
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(collecting.port)", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
            "OTEL_BSP_SCHEDULE_DELAY": "600000", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=test"])
        let client = TestParley.Client(baseURL: "http://127.0.0.1:\(server.port)")
        defer { Task { try? await client.shutdown() } }
        try await client.actAsAdmin()
        let clientTrace = "4bf92f3577b34da6a3ce929d0e0e4736", clientSpan = "00f067aa0ba902b7"
        let secretPrompt = "giraffe-prompt-52"
        let call = try await client.request(.POST, "/v1/chat/completions",
                                            body: #"{"model":"m","messages":[{"role":"user","content":"\#(secretPrompt)"}]}"#,
                                            headers: ["traceparent": "00-\(clientTrace)-\(clientSpan)-01"])
        #expect(call.status == 200, "\(call.body)")
        let conversation = try await client.createConversation()
        let turn = try await client.request(.POST, "/api/v1/conversations/\(conversation)/messages",
                                            body: #"{"content":"\#(secretPrompt)","model":"m"}"#, headers: ["Accept": "application/json"])
        #expect(turn.status == 201, "\(turn.body)")
        #expect(collector.received.withLock { $0.isEmpty }, "nothing is sent before the batch is due")
        server.stop(signal: SIGTERM)

        let exports = collector.received.withLock { $0 }
        #expect(!exports.isEmpty && exports.allSatisfy { $0.path == "/v1/traces" && $0.headers["content-type"] == "application/json" })
        #expect(!exports.contains { $0.body.contains(secretPrompt) || $0.body.contains(secretAnswer) }, "message text never leaves")
        #expect(exports.contains { $0.body.contains(#""stringValue":"parley""#) && $0.body.contains("deployment.environment.name") },
                "the service's name, and the resource attributes from OTEL_RESOURCE_ATTRIBUTES")
        let spans = try exports.flatMap { try Self.spans(inExport: $0.body) }
        func children(of parent: ExportedSpan, _ filter: (ExportedSpan) -> Bool) -> [ExportedSpan] {
            spans.filter { $0.parentID == parent.spanID && $0.traceID == parent.traceID && filter($0) }
        }

        // The /v1 call: a server span under the client's, the call's span, and one client span per attempt.
        let request = try #require(spans.first { $0.name == "POST /v1/chat/completions" })
        #expect(request.kind == 2 && request.traceID == clientTrace && request.parentID == clientSpan)
        #expect(request.attributes["http.route"] == "/v1/chat/completions" && request.attributes["http.response.status_code"] == "200")
        #expect(request.attributes["user.id"] != nil)
        let callSpan = try #require(children(of: request) { $0.name == "chat m" }.first)
        #expect(callSpan.kind == 1 && callSpan.attributes["gen_ai.operation.name"] == "chat")
        #expect(callSpan.attributes["gen_ai.usage.input_tokens"] == "7" && callSpan.attributes["gen_ai.usage.output_tokens"] == "3")
        #expect(callSpan.attributes["parley.outcome"] == "completed" && !callSpan.failed)
        let attempts = children(of: callSpan) { $0.kind == 3 }.sorted { ($0.attributes["parley.attempt"] ?? "") < ($1.attributes["parley.attempt"] ?? "") }
        try #require(attempts.count == 2, "\(spans.map(\.name))")
        #expect(attempts.allSatisfy { $0.name == "chat m" && $0.attributes["gen_ai.provider.name"] == "openai"
                && $0.attributes["parley.deployment"] == "fixed/m" })
        #expect(attempts[0].failed && attempts[0].attributes["error.type"] == "5xx")
        #expect(!attempts[1].failed && attempts[1].attributes["error.type"] == nil)
        #expect(attempts[0].attributes["http.response.status_code"] == "500")
        #expect(attempts.allSatisfy { $0.attributes["server.address"] == "127.0.0.1" })
        let sent = upstream.received.withLock { $0.map { $0.headers["traceparent"] ?? "" } }
        try #require(sent.count == 3)
        #expect(sent[0] == "00-\(clientTrace)-\(attempts[0].spanID)-01" && sent[1] == "00-\(clientTrace)-\(attempts[1].spanID)-01",
                "each upstream call carries its attempt's span, once: \(sent)")

        // The chat turn: its span outlives the request (the answer is a job of its own) and holds the turn's
        // database calls and its upstream attempt.
        let post = try #require(spans.first { $0.name == "POST /api/v1/conversations/{id}/messages" })
        #expect(post.kind == 2 && post.traceID != clientTrace && post.parentID.isEmpty)
        let turnSpan = try #require(children(of: post) { $0.name == "chat m" }.first)
        #expect(turnSpan.attributes["parley.conversation.id"] == conversation.lowercased())
        #expect(turnSpan.attributes["parley.outcome"] == "completed")
        let database = children(of: turnSpan) { $0.kind == 3 && $0.attributes["db.system.name"] == "sqlite" }
        #expect(Set(database.compactMap { $0.attributes["db.operation.name"] }).isSuperset(of: ["startTurn", "finishMessage"]),
                "\(database.map(\.name))")
        let turnAttempt = try #require(children(of: turnSpan) { $0.kind == 3 && $0.attributes["gen_ai.operation.name"] == "chat" }.first)
        #expect(sent[2] == "00-\(post.traceID)-\(turnAttempt.spanID)-01")
        #expect(!spans.contains { ["deleteExpiredSessions", "interruptExpiredGenerations"].contains($0.name) },
                "housekeeping outside requests is not traced")
        #expect(spans.contains { $0.name.hasPrefix("GET ") && $0.kind == 2 }, "every request is a span")
    }

    @Test func theDefaultIsProtobufAndWhatCannotBeExportedIsRefusedAtStart() async throws {
        let workspace = try BinaryWorkspace("tracing-settings")
        defer { workspace.remove() }
        let collector = FixtureServer()
        for _ in 0..<10 { collector.enqueue(.init(contentType: "application/x-protobuf", body: ""), on: "/v1/traces") }
        let collecting = try await collector.start(logger: TestParley.quietLogger)
        defer { Task { try? await collecting.stop() } }
        let server = try await Self.serve(workspace, upstream: 9, environment: [
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(collecting.port)", "OTEL_SERVICE_NAME": "parley-edge"])
        let client = TestParley.Client(baseURL: "http://127.0.0.1:\(server.port)")
        defer { Task { try? await client.shutdown() } }
        #expect(try await client.request(.GET, "/health/live").status == 200)
        server.stop(signal: SIGTERM)
        let exports = collector.received.withLock { $0 }
        #expect(exports.contains { $0.headers["content-type"] == "application/x-protobuf" && $0.body.contains("GET /health/live")
                && $0.body.contains("parley-edge") })

        for (variables, message) in [(["OTEL_EXPORTER_OTLP_PROTOCOL=grpc"], "OTLP over grpc is not supported"),
                                     (["OTEL_TRACES_EXPORTER=zipkin"], "OTEL_TRACES_EXPORTER=zipkin is not supported")] {
            let outcome = try await Shell.run(["env", "-i", "PATH=/usr/bin:/bin", "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9"]
                                              + variables + [workspace.binary, "serve", "--port", "0",
                                                             "--database", "sqlite://\(workspace.directory)/q.db"])
            #expect(outcome.status == 64 && outcome.output.contains(message), "\(outcome.status) \(outcome.output)")
        }
    }

    /// The spans of one OTLP/JSON export (ids are hex, or base64 as protobuf's JSON mapping writes bytes).
    static func spans(inExport body: String) throws -> [ExportedSpan] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        var spans: [ExportedSpan] = []
        for resource in object["resourceSpans"] as? [[String: Any]] ?? [] {
            for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                for span in scope["spans"] as? [[String: Any]] ?? [] {
                    var attributes: [String: String] = [:]
                    for attribute in span["attributes"] as? [[String: Any]] ?? [] {
                        guard let key = attribute["key"] as? String, let value = attribute["value"] as? [String: Any],
                              let first = value.values.first else { continue }
                        attributes[key] = "\(first)"
                    }
                    let status = span["status"] as? [String: Any]
                    spans.append(ExportedSpan(
                        traceID: hex(span["traceId"]), spanID: hex(span["spanId"]), parentID: hex(span["parentSpanId"]),
                        name: span["name"] as? String ?? "", kind: (span["kind"] as? Int) ?? 0, attributes: attributes,
                        failed: (status?["code"] as? Int) == 2))
                }
            }
        }
        return spans
    }

    static func hex(_ value: Any?) -> String {
        guard let text = value as? String, !text.isEmpty else { return "" }
        if (text.count == 16 || text.count == 32), text.allSatisfy(\.isHexDigit) { return text.lowercased() }
        guard let bytes = Data(base64Encoded: text) else { return text }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }
}
