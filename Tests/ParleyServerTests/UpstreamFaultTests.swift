import Foundation
import ParleyMockLLM
import ParleyTestSupport
import Testing

/// Every way an upstream fails ends as a stored `error` status and an `error` event, never a hung stream.
@Suite struct UpstreamFaultTests {
    @Test(arguments: [
        ("500", "upstream_http_error", "HTTP 500"),
        ("429", "upstream_rate_limited", "retry after 3 s"),
        ("400", "upstream_http_error", "HTTP 400"),
        ("cut", "upstream_stream_cut", "ended early"),
        ("garbage", "upstream_invalid_response", "not valid JSON"),
        ("slow", "upstream_timeout", "no response within"),
        ("hang", "upstream_timeout", "stopped sending"),
    ])
    func faultEndsInStoredError(fault: String, type: String, text: String) async throws {
        // Tight limits only where a timeout is what the case is about.
        try await TestParley.with(configure: {
            $0.timeouts.firstToken = fault == "slow" ? .milliseconds(500) : .seconds(30)
            $0.timeouts.idle = fault == "hang" ? .milliseconds(500) : .seconds(30)
        }) { parley in
            let conversation = try await parley.createConversation()
            let events = try await parley.chat(conversation, "hi mock:fault=\(fault) mock:retry_after=3 mock:tokens=10")
            let last = try #require(events.last)
            #expect(last.name == "error", "fault \(fault)")
            let error = last.data["error"] as? [String: Any]
            #expect(error?["type"] as? String == type, "fault \(fault)")
            #expect((error?["message"] as? String)?.contains(text) == true, "fault \(fault): \(String(describing: error))")
            let message = try #require(last.message)
            let id = try #require(message["id"] as? String)
            let stored = try await parley.request(.GET, "/api/v1/messages/\(id)").json
            #expect(stored["status"] as? String == "error")
            #expect((stored["error"] as? String)?.contains(text) == true)
            if fault == "cut" {
                #expect(stored["content"] as? String == MockScript.replyTokens(count: 5).joined(), "partial text is kept")
            }
        }
    }

    @Test func deadUpstreamIsReportedQuickly() async throws {
        try await TestParley.with(withUpstream: false, configure: {
            $0.upstreams = [.init(name: "dead", baseURL: "http://127.0.0.1:1/v1", models: ["m"])]
        }) { parley in
            let conversation = try await parley.createConversation()
            let events = try await parley.chat(conversation, "hi")
            let error = events.last?.data["error"] as? [String: Any]
            #expect(events.last?.name == "error")
            #expect(error?["type"] as? String == "upstream_unreachable")
            #expect((error?["message"] as? String)?.contains("could not reach the upstream") == true)
        }
    }

    @Test func aConversationWhoseModelIsGoneFailsWithAStoredError() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-gone-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = "sqlite://\(directory)/parley.db"
        var conversation = ""
        try await TestParley.with(configure: { $0.databaseURL = database }) { parley in
            conversation = try await parley.createConversation(#"{"model":"mock-2"}"#)
        }
        // Restarted with an upstream that no longer serves mock-2.
        var options = MockLLMServer.Options()
        options.models = ["mock-1"]
        try await TestParley.with(mockOptions: options, configure: { $0.databaseURL = database }) { parley in
            let events = try await parley.chat(conversation, "hi")
            #expect(events.last?.name == "error")
            let error = events.last?.data["error"] as? [String: Any]
            #expect(error?["type"] as? String == "model_unavailable")
            #expect((error?["message"] as? String)?.contains("unknown model 'mock-2'") == true)
            let page = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages").decode(MessagePageJSON.self)
            #expect(page.data.map(\.status) == ["complete", "error"], "the question is kept, the answer says why it failed")
        }
    }

    @Test func unlistedUpstreamModelsStillRouteWhenTheListIsUnavailable() async throws {
        // The upstream's model list cannot be fetched: names go to it anyway and the failure shows per message.
        try await TestParley.with(withUpstream: false, configure: {
            $0.upstreams = [.init(name: "dead", baseURL: "http://127.0.0.1:1/v1")]
        }) { parley in
            let models = try await parley.request(.GET, "/api/v1/models")
            #expect(models.status == 200)
            let conversation = try await parley.createConversation()
            let events = try await parley.chat(conversation, "hi", model: "anything")
            #expect(events.last?.name == "error")
        }
    }
}
