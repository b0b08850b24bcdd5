import Foundation
import ParleyMockLLM
import ParleyTestSupport
import Testing

/// Bad input gets a JSON error with the right 4xx, never a 500, on every endpoint.
@Suite struct ValidationTests {
    struct Case: Sendable, CustomStringConvertible {
        var method: String
        var path: String
        var body: String?
        var status: Int
        var message: String
        var description: String { "\(method) \(path) \(body ?? "")" }
    }

    static let missing = "01a1ff49-b25e-7b99-94de-0d2bac8a9592"

    /// `{conversation}` and `{message}` are replaced by real ids.
    static let cases: [Case] = [
        Case(method: "POST", path: "/api/v1/conversations", body: "{", status: 400, message: "not valid JSON"),
        Case(method: "POST", path: "/api/v1/conversations", body: "[]", status: 400, message: "must be a JSON object"),
        Case(method: "POST", path: "/api/v1/conversations", body: #"{"title":5}"#, status: 400, message: "'title' must be a string"),
        Case(method: "POST", path: "/api/v1/conversations", body: #"{"model":"no-such-model"}"#, status: 400, message: "unknown model"),
        Case(method: "POST", path: "/api/v1/conversations", body: #"{"title":"a\u0000b"}"#, status: 400, message: "NUL"),
        Case(method: "POST", path: "/api/v1/conversations", body: "{\"title\":\"\(String(repeating: "t", count: 501))\"}",
             status: 400, message: "longer than 500"),
        Case(method: "GET", path: "/api/v1/conversations?limit=0", body: nil, status: 400, message: "'limit'"),
        Case(method: "GET", path: "/api/v1/conversations?limit=abc", body: nil, status: 400, message: "'limit'"),
        Case(method: "GET", path: "/api/v1/conversations?limit=201", body: nil, status: 400, message: "'limit'"),
        Case(method: "GET", path: "/api/v1/conversations?cursor=bogus", body: nil, status: 400, message: "'cursor'"),
        Case(method: "GET", path: "/api/v1/search", body: nil, status: 400, message: "'q' is required"),
        Case(method: "GET", path: "/api/v1/search?q=%22%28%2A%29%22", body: nil, status: 400, message: "at least one letter or digit"),
        Case(method: "GET", path: "/api/v1/search?q=" + String(repeating: "a", count: 201), body: nil, status: 400, message: "longer than 200"),
        Case(method: "GET", path: "/api/v1/search?q=a%00b", body: nil, status: 400, message: "NUL"),
        Case(method: "GET", path: "/api/v1/search?q=x&limit=0", body: nil, status: 400, message: "'limit'"),
        Case(method: "GET", path: "/api/v1/search?q=x&limit=51", body: nil, status: 400, message: "'limit'"),
        Case(method: "GET", path: "/api/v1/search?q=x&offset=1001", body: nil, status: 400, message: "'offset'"),
        Case(method: "GET", path: "/api/v1/conversations/not-a-uuid", body: nil, status: 404, message: "no conversation"),
        Case(method: "GET", path: "/api/v1/conversations/\(missing)", body: nil, status: 404, message: "no conversation"),
        Case(method: "PATCH", path: "/api/v1/conversations/\(missing)", body: #"{"title":"x"}"#, status: 404, message: "no conversation"),
        Case(method: "PATCH", path: "/api/v1/conversations/{conversation}", body: #"{"title":null,"model":7}"#, status: 400, message: "'model' must be a string"),
        Case(method: "DELETE", path: "/api/v1/conversations/\(missing)", body: nil, status: 404, message: "no conversation"),
        Case(method: "GET", path: "/api/v1/conversations/{conversation}/messages?before=0", body: nil, status: 400, message: "'before'"),
        Case(method: "GET", path: "/api/v1/conversations/{conversation}/messages?limit=-1", body: nil, status: 400, message: "'limit'"),
        Case(method: "GET", path: "/api/v1/conversations/\(missing)/messages", body: nil, status: 404, message: "no conversation"),
        Case(method: "POST", path: "/api/v1/conversations/{conversation}/messages", body: "", status: 400, message: "must be a JSON object"),
        Case(method: "POST", path: "/api/v1/conversations/{conversation}/messages", body: "{}", status: 400, message: "missing field 'content'"),
        Case(method: "POST", path: "/api/v1/conversations/{conversation}/messages", body: #"{"content":["a"]}"#, status: 400, message: "'content' must be a string"),
        Case(method: "POST", path: "/api/v1/conversations/{conversation}/messages", body: #"{"content":null}"#, status: 400, message: "'content'"),
        Case(method: "POST", path: "/api/v1/conversations/{conversation}/messages", body: #"{"content":"   "}"#, status: 400, message: "must not be empty"),
        Case(method: "POST", path: "/api/v1/conversations/{conversation}/messages", body: #"{"content":" \n\t\r\u2003\u00a0 "}"#, status: 400, message: "must not be empty"),
        Case(method: "POST", path: "/api/v1/conversations/{conversation}/messages", body: #"{"content":"a\u0000"}"#, status: 400, message: "NUL"),
        Case(method: "POST", path: "/api/v1/conversations/{conversation}/messages", body: #"{"content":"hi","model":"nope"}"#, status: 400, message: "unknown model"),
        Case(method: "POST", path: "/api/v1/conversations/{conversation}/messages", body: #"{"content":"hi","model":""}"#, status: 400, message: "'model'"),
        Case(method: "POST", path: "/api/v1/conversations/{conversation}/messages",
             body: "{\"content\":\"\(String(repeating: "x", count: 2001))\"}", status: 400, message: "longer than 2000"),
        Case(method: "POST", path: "/api/v1/conversations/\(missing)/messages", body: #"{"content":"hi"}"#, status: 404, message: "no conversation"),
        Case(method: "DELETE", path: "/api/v1/conversations/\(missing)/messages", body: nil, status: 404, message: "no conversation"),
        Case(method: "GET", path: "/api/v1/messages/\(missing)", body: nil, status: 404, message: "no message"),
        Case(method: "GET", path: "/api/v1/messages/zzz/events", body: nil, status: 404, message: "no message"),
        Case(method: "GET", path: "/api/v1/messages/{message}/events?last_event_id=x", body: nil, status: 400, message: "last_event_id"),
        Case(method: "POST", path: "/api/v1/messages/\(missing)/stop", body: nil, status: 404, message: "no message"),
        Case(method: "PUT", path: "/api/v1/messages/{message}/feedback", body: #"{"rating":5}"#, status: 400, message: "'rating' must be 1 or -1"),
        Case(method: "PUT", path: "/api/v1/messages/{message}/feedback", body: #"{"rating":"up"}"#, status: 400, message: "'rating' must be an integer"),
        Case(method: "PUT", path: "/api/v1/messages/{message}/feedback", body: #"{"comment":"x"}"#, status: 400, message: "missing field 'rating'"),
        Case(method: "PUT", path: "/api/v1/messages/{user-message}/feedback", body: #"{"rating":1}"#, status: 400, message: "assistant messages"),
        Case(method: "PUT", path: "/api/v1/messages/\(missing)/feedback", body: #"{"rating":1}"#, status: 404, message: "no message"),
        Case(method: "POST", path: "/api/v1/messages/{user-message}/stop", body: nil, status: 400, message: "only assistant"),
        Case(method: "GET", path: "/api/v1/nothing-here", body: nil, status: 404, message: "no such endpoint"),
        Case(method: "POST", path: "/api/v1/conversations/{conversation}/messages", body: #"{"content":"hi","replaces":"x"}"#,
             status: 400, message: "'replaces' must be a message id"),
        Case(method: "POST", path: "/api/v1/conversations/{conversation}/messages", body: #"{"content":"hi","replaces":5}"#,
             status: 400, message: "'replaces' must be a string"),
        Case(method: "POST", path: "/api/v1/conversations/{conversation}/messages",
             body: #"{"content":"hi","replaces":"{message}"}"#, status: 400, message: "must name a user message"),
        Case(method: "POST", path: "/api/v1/conversations/{conversation}/messages",
             body: "{\"content\":\"hi\",\"replaces\":\"\(missing)\"}", status: 404, message: "no message"),
        Case(method: "GET", path: "/assets/0/nothing.js", body: nil, status: 404, message: "no such file"),
    ]

    @Test func everyBadInputGetsItsJSONError() async throws {
        try await TestParley.with(configure: { $0.limits.maxMessageCharacters = 2000 }) { parley in
            let conversation = try await parley.createConversation()
            let events = try await parley.chat(conversation, "hello")
            let user = try #require(events.first?.data["id"] as? String)
            let assistant = try #require(events.last?.data["id"] as? String)
            for item in Self.cases {
                let path = item.path.replacingOccurrences(of: "{conversation}", with: conversation)
                    .replacingOccurrences(of: "{user-message}", with: user)
                    .replacingOccurrences(of: "{message}", with: assistant)
                let body = item.body?.replacingOccurrences(of: "{message}", with: assistant)
                let reply = try await parley.request(.init(rawValue: item.method), path, body: body)
                #expect(reply.status == item.status, "\(item): \(reply.body)")
                #expect(reply.headers["content-type"]?.hasPrefix("application/json") == true, "\(item)")
                #expect(reply.errorType != nil, "\(item): \(reply.body)")
                #expect(reply.errorMessage?.contains(item.message) == true, "\(item): \(reply.body)")
            }
        }
    }

    @Test func tooManyRunningAnswersAre503AndStoreNothing() async throws {
        var options = MockLLMServer.Options()
        options.defaults = MockScript(tokens: 500, tokenDelayMs: 20)
        try await TestParley.with(mockOptions: options, configure: { $0.maxGenerations = 1 }) { parley in
            let conversation = try await parley.createConversation()
            let running = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                                  body: #"{"content":"long"}"#)
            let head = try await running.read { $0.name == "delta" }
            let refused = try await parley.request(.POST, "/api/v1/conversations/\(conversation)/messages",
                                                   body: #"{"content":"another"}"#)
            #expect(refused.status == 503 && refused.errorType == "unavailable")
            #expect(refused.errorMessage?.contains("already generating 1 answers") == true)
            let page = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages").decode(MessagePageJSON.self)
            #expect(page.data.count == 2, "the refused message was not stored")
            let assistant = try #require(head[1].data["id"] as? String)
            _ = try await parley.request(.POST, "/api/v1/messages/\(assistant)/stop")
            _ = try await running.rest()
            let accepted = try await parley.chat(conversation, "now it fits mock:tokens=2")
            #expect(accepted.last?.status == "complete")
        }
    }

    @Test func oversizeBodiesAre413() async throws {
        try await TestParley.with(configure: { $0.maxBodyBytes = 4096 }) { parley in
            let conversation = try await parley.createConversation()
            let big = "{\"content\":\"\(String(repeating: "x", count: 10_000))\"}"
            for path in ["/api/v1/conversations", "/api/v1/conversations/\(conversation)/messages"] {
                let reply = try await parley.request(.POST, path, body: big)
                #expect(reply.status == 413, "\(path)")
                #expect(reply.errorType == "payload_too_large")
            }
            // The conversation received nothing.
            let page = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages").decode(MessagePageJSON.self)
            #expect(page.data.isEmpty)
        }
    }
}
