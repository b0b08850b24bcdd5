import Foundation
import ParleyServer
import Testing

/// Sampling parameters per conversation and per assistant through the real server: sent upstream (the mock
/// echoes what it received), recorded on each answer, cleared, checked, and — when deterministic — answered
/// from the response cache on the chat path too, per user.
@Suite struct ChatParametersTests {
    static func done(_ events: [Event]) throws -> [String: any Sendable] {
        try #require(events.last(where: { $0.name == "done" })?.data, "no done event: \(events.map(\.name))")
    }

    @Test func parametersGoUpstreamAreRecordedOnTheAnswerAndCanBeCleared() async throws {
        try await TestParley.with { parley in
            let created = try await parley.request(.POST, "/api/v1/conversations", body: """
                {"parameters":{"temperature":0.3,"top_p":0.9,"max_tokens":50,"seed":7,"stop":"END","reasoning_effort":"low"}}
                """)
            #expect(created.status == 201, "\(created.body)")
            let shown = try #require(created.json["parameters"] as? [String: Any])
            #expect(shown["temperature"] as? Double == 0.3 && shown["seed"] as? Int == 7 && shown["stop"] as? [String] == ["END"])
            let id = try #require(created.json["id"] as? String)
            let turn = try await parley.chat(id, "what was sent? mock:echo=params mock:tokens=30")
            let expected = #"{"max_tokens":50,"reasoning_effort":"low","seed":7,"stop":["END"],"temperature":0.3,"top_p":0.9}"#
            #expect(turn.deltaText.hasPrefix(expected), "\(turn.deltaText.prefix(200))")
            let answer = try Self.done(turn)
            #expect((answer["parameters"] as? [String: Any])?["reasoning_effort"] as? String == "low", "\(answer)")
            #expect(answer["cache"] as? String == "miss", "a seeded request is cached: \(answer)")

            // Cleared: nothing is sent but the defaults, and the next answer records none.
            let cleared = try await parley.request(.PATCH, "/api/v1/conversations/\(id)", body: #"{"parameters":null}"#)
            #expect(cleared.status == 200 && (cleared.json["parameters"] as? [String: Any])?.isEmpty == true, "\(cleared.body)")
            let plain = try await parley.chat(id, "and now? mock:echo=params mock:tokens=30")
            #expect(plain.deltaText.hasPrefix("{}"), "\(plain.deltaText.prefix(100))")
            #expect(try Self.done(plain)["parameters"] == nil)
            // The earlier answer keeps what it was asked with.
            let history = try await parley.request(.GET, "/api/v1/conversations/\(id)/messages")
            let answers = (history.json["data"] as? [[String: Any]] ?? []).filter { $0["role"] as? String == "assistant" }
            #expect(answers.count == 2 && (answers[0]["parameters"] as? [String: Any])?["seed"] as? Int == 7)

            // Changed on its own: a PATCH replaces them whole.
            let changed = try await parley.request(.PATCH, "/api/v1/conversations/\(id)", body: #"{"parameters":{"temperature":1.5}}"#)
            #expect(changed.json["parameters"] as? [String: Double] == ["temperature": 1.5], "\(changed.body)")
        }
    }

    @Test func aDeterministicChatTurnIsServedFromTheCachePerUser() async throws {
        try await TestParley.with { parley in
            func ask(_ headers: [String: String] = [:], parameters: String = #"{"temperature":0}"#) async throws -> [String: any Sendable] {
                let created = try await parley.request(.POST, "/api/v1/conversations", body: #"{"parameters":\#(parameters)}"#,
                                                       headers: headers)
                let id = try #require(created.json["id"] as? String, "\(created.body)")
                let reader = try await parley.events(.POST, "/api/v1/conversations/\(id)/messages",
                                                     body: #"{"content":"the same question mock:tokens=12"}"#, headers: headers)
                return try Self.done(try await reader.rest())
            }
            let first = try await ask()
            #expect(first["cache"] as? String == "miss", "\(first)")
            // A seed makes it deterministic too, at any temperature.
            let seeded = #"{"temperature":0.9,"seed":42}"#
            #expect(try await ask(parameters: seeded)["cache"] as? String == "miss")
            let again = try await ask(parameters: seeded)
            #expect(again["cache"] as? String == "hit", "\(again)")
            let second = try await ask()
            #expect(second["cache"] as? String == "hit" && second["content"] as? String == first["content"] as? String, "\(second)")
            // Another user asking the same is not told what the first one asked.
            let admin = try await parley.signIn(email: TestUsers.adminEmail)
            let bob = try await parley.createUser("bob@example.com", by: admin)
            #expect(try await ask(bob.headers)["cache"] as? String == "miss")
        }
    }

    @Test func assistantsCarryParametersAndBadOnesGetClearErrors() async throws {
        try await TestParley.with { parley in
            let assistant = try await parley.request(.POST, "/api/v1/assistants",
                                                     body: #"{"name":"Precise","parameters":{"temperature":0,"max_tokens":20}}"#)
            #expect(assistant.status == 201 && (assistant.json["parameters"] as? [String: Int]) == ["temperature": 0, "max_tokens": 20],
                    "\(assistant.body)")
            let assistantID = try #require(assistant.json["id"] as? String)
            let chat = try await parley.request(.POST, "/api/v1/conversations", body: #"{"assistant_id":"\#(assistantID)"}"#)
            #expect((chat.json["parameters"] as? [String: Int]) == ["temperature": 0, "max_tokens": 20], "\(chat.body)")
            let own = try await parley.request(.POST, "/api/v1/conversations",
                                               body: #"{"assistant_id":"\#(assistantID)","parameters":{"seed":1}}"#)
            #expect((own.json["parameters"] as? [String: Int]) == ["seed": 1], "the request's own win")

            let post = { (parameters: String) in
                try await parley.request(.POST, "/api/v1/conversations", body: #"{"parameters":\#(parameters)}"#)
            }
            let cases: [(String, String, String)] = [
                (#"{"temperature":2.5}"#, "parameters.temperature", "from 0 to 2"),
                (#"{"temperature":"hot"}"#, "parameters.temperature", "a number"),
                (#"{"top_p":0}"#, "parameters.top_p", "above 0"),
                (#"{"max_tokens":0}"#, "parameters.max_tokens", "from 1"),
                (#"{"max_tokens":1.5}"#, "parameters.max_tokens", "whole number"),
                (#"{"seed":99999999999}"#, "parameters.seed", "32 bits"),
                (#"{"stop":["a","b","c","d","e"]}"#, "parameters.stop", "up to 4"),
                (#"{"stop":[""]}"#, "parameters.stop", "1 to 100"),
                (#"{"stop":5}"#, "parameters.stop", "array of strings"),
                (#"{"reasoning_effort":"max"}"#, "parameters.reasoning_effort", "one of"),
                (#"{"temprature":1}"#, "parameters.temprature", "not a parameter"),
            ]
            for (body, param, words) in cases {
                let reply = try await post(body)
                #expect(reply.status == 400, "\(body): \(reply.status) \(reply.body)")
                let message = reply.errorMessage ?? ""
                #expect(message.contains("'\(param)'") && message.contains(words), "\(body): \(reply.body)")
            }
            #expect(try await post("5").status == 400)
            #expect(try await parley.request(.PATCH, "/api/v1/assistants/\(assistantID)",
                                             body: #"{"parameters":{"top_p":2}}"#).status == 400)
        }
    }
}
