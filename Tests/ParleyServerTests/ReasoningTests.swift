import Foundation
import ParleyCore
import ParleyMockLLM
import ParleyServer
import ParleyStore
import Testing

/// A reasoning model's reasoning through the real server: streamed as `reasoning` events apart from the answer,
/// stored apart with its duration, in the reattach snapshot, never sent back upstream; and why an answer ended.
@Suite struct ReasoningTests {
    static func done(_ events: [Event]) throws -> [String: any Sendable] {
        try #require(events.last(where: { $0.name == "done" })?.data, "no done event: \(events.map(\.name))")
    }

    static let reasoning = MockScript.reasoningTokens(count: 4).joined()

    @Test func reasoningStreamsAndIsStoredApartFromTheAnswerAndNeverGoesBackUpstream() async throws {
        try await TestParley.with { parley in
            let conversation = try await parley.createConversation()
            let turn = try await parley.chat(conversation, "what is 2+2? mock:reasoning=4 mock:tokens=6")
            let streamed = turn.filter { $0.name == "reasoning" }.compactMap(\.content).joined()
            #expect(streamed == Self.reasoning, "\(turn.map(\.name))")
            #expect(turn.deltaText == MockScript.replyTokens(count: 6).joined(), "the answer holds no reasoning")
            let firstReasoning = try #require(turn.firstIndex { $0.name == "reasoning" })
            let firstDelta = try #require(turn.firstIndex { $0.name == "delta" })
            #expect(firstReasoning < firstDelta)
            let answer = try Self.done(turn)
            #expect(answer["reasoning"] as? String == Self.reasoning && answer["reasoning_ms"] is Int, "\(answer)")
            #expect(answer["finish_reason"] as? String == "stop")
            #expect(answer["content"] as? String == MockScript.replyTokens(count: 6).joined())

            let history = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages")
            let stored = (history.json["data"] as? [[String: Any]] ?? []).last
            #expect(stored?["reasoning"] as? String == Self.reasoning && stored?["finish_reason"] as? String == "stop")

            // The next turn's context has the earlier answer but not its reasoning.
            let next = try await parley.chat(conversation, "and again mock:echo=context mock:tokens=200")
            let context = next.deltaText
            #expect(context.contains("assistant: " + MockScript.replyTokens(count: 6).joined()), "\(context.prefix(400))")
            #expect(!context.contains("Thinking step"), "\(context.prefix(400))")
            #expect(try Self.done(next)["reasoning"] == nil, "no reasoning, no field")
        }
    }

    @Test func aReattachWhileReasoningGetsTheReasoningSoFar() async throws {
        var options = MockLLMServer.Options()
        options.defaults = MockScript(tokens: 5, tokenDelayMs: 30)
        try await TestParley.with(mockOptions: options) { parley in
            let conversation = try await parley.createConversation()
            let reader = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                                 body: #"{"content":"think hard mock:reasoning=80"}"#)
            let first = try await reader.read { $0.name == "reasoning" && ($0.id ?? 0) >= 6 }
            let assistant = try #require(first[1].data["id"] as? String)
            reader.cancel()
            // Saved while it streams, as the answer's text is (a crash loses at most one flush interval of it).
            try await Task.sleep(for: .milliseconds(500))
            let saved = try await parley.request(.GET, "/api/v1/messages/\(assistant)")
            let savedReasoning = saved.json["reasoning"] as? String ?? ""
            #expect(saved.json["status"] as? String == "streaming" && !savedReasoning.isEmpty
                    && Self.longReasoning.hasPrefix(savedReasoning), "\(saved.body.prefix(300))")
            // An id the job never issued (as a follower on another replica would send) gets the snapshot.
            let resumed = try await parley.events(.GET, "/api/v1/messages/\(assistant)/events", headers: ["Last-Event-ID": "100000"])
            let rest = try await resumed.rest()
            let snapshot = try #require(rest.first, "a snapshot first")
            #expect(snapshot.name == "message")
            let soFar = snapshot.data["reasoning"] as? String ?? ""
            #expect(!soFar.isEmpty && Self.longReasoning.hasPrefix(soFar), "\(snapshot.data)")
            let followed = soFar + rest.filter { $0.name == "reasoning" }.compactMap(\.content).joined()
            #expect(followed == Self.longReasoning)
            #expect(try Self.done(rest)["reasoning"] as? String == Self.longReasoning)
        }
    }

    static let longReasoning = MockScript.reasoningTokens(count: 80).joined()

    @Test func anAnswerCutByTheOutputLimitSaysSo() async throws {
        try await TestParley.with { parley in
            let created = try await parley.request(.POST, "/api/v1/conversations", body: #"{"parameters":{"max_tokens":5}}"#)
            let id = try #require(created.json["id"] as? String, "\(created.body)")
            let turn = try await parley.chat(id, "tell me everything mock:tokens=40")
            let answer = try Self.done(turn)
            #expect(answer["finish_reason"] as? String == "length" && answer["status"] as? String == "complete", "\(answer)")
            #expect(answer["content"] as? String == MockScript.replyTokens(count: 5).joined())
        }
    }
}

/// Continuing an answer that stopped at the output limit, through the real server: one message, the answer so far
/// given to the model as the assistant's last message, the new text appended, the tokens of both parts counted.
@Suite struct ContinueAnswerTests {
    @Test func anAnswerCutAtTheLimitIsContinuedAsOneMessage() async throws {
        try await TestParley.with { parley in
            let created = try await parley.request(.POST, "/api/v1/conversations", body: #"{"parameters":{"max_tokens":40}}"#)
            let conversation = try #require(created.json["id"] as? String, "\(created.body)")
            let turn = try await parley.chat(conversation, "go on mock:echo=context mock:tokens=200")
            let first = try ReasoningTests.done(turn)
            let answerID = try #require(first["id"] as? String)
            let partial = try #require(first["content"] as? String)
            #expect(first["finish_reason"] as? String == "length" && partial.hasPrefix("user: go on"), "\(first)")

            let reader = try await parley.events(.POST, "/api/v1/messages/\(answerID)/continue")
            #expect(reader.status == 200)
            let events = try await reader.rest()
            let opened = events.filter { $0.name == "message" }.last?.data
            #expect(opened?["id"] as? String == answerID && opened?["content"] as? String == partial
                    && opened?["status"] as? String == "streaming", "the message event holds the text so far")
            let added = events.deltaText
            // The mock echoes what it was sent: the conversation, then the answer so far as the assistant's message.
            #expect(added.hasPrefix("user: go on assistant: user: go on"), "\(added.prefix(200))")
            let done = try ReasoningTests.done(events)
            #expect(done["id"] as? String == answerID && done["content"] as? String == partial + added, "\(done)")
            #expect(done["status"] as? String == "complete" && done["finish_reason"] as? String == "length")
            #expect((done["usage"] as? [String: Any])?["completion_tokens"] as? Int == 80, "both parts: \(done)")

            let history = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages")
            let stored = history.json["data"] as? [[String: Any]] ?? []
            #expect(stored.count == 2 && stored.last?["content"] as? String == partial + added, "one message, not two")
        }
    }

    @Test func onlyTheNewestAnswerOfItsOwnerCanBeContinued() async throws {
        var options = MockLLMServer.Options()
        options.defaults = MockScript(tokens: 4)
        try await TestParley.with(mockOptions: options) { parley in
            let conversation = try await parley.createConversation()
            let older = try ReasoningTests.done(try await parley.chat(conversation, "one"))
            let newer = try await parley.chat(conversation, "two")
            let userID = try #require(newer.first?.data["id"] as? String)
            for (id, status) in [(older["id"] as? String ?? "", 409), (userID, 409), ("not-a-uuid", 404),
                                 (UUID().uuidString.lowercased(), 404)] {
                let reply = try await parley.request(.POST, "/api/v1/messages/\(id)/continue")
                #expect(reply.status == status && reply.errorMessage != nil, "\(id): \(reply.status) \(reply.body)")
            }
            // A running answer cannot be continued twice at once.
            let slow = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                               body: #"{"content":"three mock:tokens=200 mock:delay_ms=20"}"#)
            let started = try await slow.read { $0.name == "delta" }
            let running = try #require(started[1].data["id"] as? String)
            let twice = try await parley.request(.POST, "/api/v1/messages/\(running)/continue")
            #expect(twice.status == 409, "\(twice.body)")
            _ = try await parley.request(.POST, "/api/v1/messages/\(running)/stop")
            _ = try await slow.rest()
            // Stopped part-way, it can be continued; JSON clients get the finished message.
            let continued = try await parley.request(.POST, "/api/v1/messages/\(running)/continue",
                                                     headers: ["Accept": "application/json"])
            #expect(continued.status == 200 && continued.json["status"] as? String == "complete", "\(continued.body)")
        }
    }

    @Test func anAnswerWhoseQuestionIsGoneIsPutBackAsItWas() async throws {
        try await TestParley.with { parley in
            // An answer with no question (as an import from another app may leave): nothing to continue from.
            let me = try await parley.request(.GET, "/api/v1/account")
            let owner = UserID(try #require(me.json["id"] as? String, "\(me.body)"))
            let store = try SQLiteConversationStore(path: parley.directory + "/parley.db")
            let id = UUID.v7()
            let now = Date()
            let answer = Message(id: .v7(), conversationID: id, index: 1, parentID: nil, role: .assistant,
                                 content: "Half an ans", model: "mock-1", status: .interrupted, createdAt: now, updatedAt: now)
            let conversation = Conversation(id: id, ownerID: owner, title: "Orphan", model: nil, systemPrompt: nil,
                                            messageCount: 1, createdAt: now, updatedAt: now)
            try await store.importConversation(ConversationImport(conversation: conversation, messages: [answer]))

            let reply = try await parley.request(.POST, "/api/v1/messages/\(answer.id.lowercased)/continue")
            #expect(reply.status == 400 && reply.errorMessage?.contains("answers no message") == true, "\(reply.status) \(reply.body)")
            let history = try await parley.request(.GET, "/api/v1/conversations/\(id.lowercased)/messages")
            let stored = (history.json["data"] as? [[String: Any]] ?? []).first
            #expect(stored?["content"] as? String == "Half an ans" && stored?["status"] as? String == "interrupted",
                    "the answer is not left streaming: \(history.status) \(history.body)")
        }
    }
}
