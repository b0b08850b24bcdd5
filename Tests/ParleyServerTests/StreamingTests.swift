import Foundation
import ParleyMockLLM
import ParleyTestSupport
import Testing

/// The generation engine over a live socket: streaming, disconnects, stop, reattach, flushing, shutdown.
@Suite struct StreamingTests {
    static func slowMock(tokens: Int, delayMs: Int) -> MockLLMServer.Options {
        var options = MockLLMServer.Options()
        options.defaults = MockScript(tokens: tokens, tokenDelayMs: delayMs)
        return options
    }

    @Test func chunksArriveWhileTheUpstreamIsStillProducing() async throws {
        try await TestParley.with(mockOptions: Self.slowMock(tokens: 8, delayMs: 100)) { parley in
            let conversation = try await parley.createConversation()
            let reader = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                                 body: #"{"content":"Tell me something"}"#)
            #expect(reader.status == 200)
            let head = try await reader.read { $0.name == "delta" }
            #expect(head.map(\.name) == ["message", "message", "delta"])
            let assistant = try #require(head[1].data["id"] as? String)
            #expect(head[1].status == "streaming")
            // The first token is here while the answer is still being generated: it was not buffered to the end.
            let stored = try await parley.request(.GET, "/api/v1/messages/\(assistant)").json
            #expect(stored["status"] as? String == "streaming")

            let tail = try await reader.rest()
            let events = head + tail
            #expect(events.compactMap(\.id) == Array(1...events.count), "ids are consecutive from 1")
            #expect(events.deltaText == MockScript.replyTokens(count: 8).joined())
            #expect(events.filter { $0.name == "delta" }.count == 8, "one event per upstream token")
            #expect(events.suffix(2).map(\.name) == ["usage", "done"])
            #expect(events.last?.status == "complete")
            #expect(events.last?.content == MockScript.replyTokens(count: 8).joined())
        }
    }

    @Test func aClientThatLeavesDoesNotStopTheAnswer() async throws {
        try await TestParley.with(mockOptions: Self.slowMock(tokens: 15, delayMs: 30)) { parley in
            let conversation = try await parley.createConversation()
            let reader = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                                 body: #"{"content":"hi"}"#)
            let head = try await reader.read { $0.name == "delta" }
            let assistant = try #require(head[1].data["id"] as? String)
            reader.cancel()
            let final = try await parley.waitForMessage(assistant) { $0["status"] as? String != "streaming" }
            #expect(final["status"] as? String == "complete")
            #expect(final["content"] as? String == MockScript.replyTokens(count: 15).joined())
        }
    }

    @Test func stopCancelsAndKeepsThePartialAnswer() async throws {
        try await TestParley.with(mockOptions: Self.slowMock(tokens: 500, delayMs: 20)) { parley in
            let conversation = try await parley.createConversation()
            let reader = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                                 body: #"{"content":"write a lot"}"#)
            var seen = try await reader.read { $0.name == "delta" }
            let assistant = try #require(seen[1].data["id"] as? String)
            let stop = try await parley.request(.POST, "/api/v1/messages/\(assistant)/stop")
            #expect(stop.status == 200)
            #expect(stop.json["status"] as? String == "cancelled")
            seen += try await reader.rest()
            #expect(seen.last?.name == "done")
            #expect(seen.last?.status == "cancelled")
            let full = MockScript.replyTokens(count: 500).joined()
            let stored = try #require(stop.json["content"] as? String)
            #expect(!stored.isEmpty && stored.count < full.count && full.hasPrefix(stored))
            #expect(seen.deltaText == stored, "the stream and the store agree on the partial text")
            // Stopping again is harmless and reports the stored state.
            let again = try await parley.request(.POST, "/api/v1/messages/\(assistant)/stop")
            #expect(again.status == 200 && again.json["status"] as? String == "cancelled")
        }
    }

    @Test func reattachWithLastEventIDReplaysWhatWasMissed() async throws {
        try await TestParley.with(mockOptions: Self.slowMock(tokens: 80, delayMs: 20)) { parley in
            let conversation = try await parley.createConversation()
            let reader = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                                 body: #"{"content":"hi"}"#)
            let first = try await reader.read { $0.id == 5 }
            let assistant = try #require(first[1].data["id"] as? String)
            reader.cancel()
            try await Task.sleep(for: .milliseconds(100))

            let resumed = try await parley.events(.GET, "/api/v1/messages/\(assistant)/events",
                                                  headers: ["Last-Event-ID": "5"])
            #expect(resumed.status == 200)
            let rest = try await resumed.rest()
            #expect(rest.first?.id == 6, "resumes right after the last event seen")
            #expect(rest.last?.name == "done")
            #expect((first + rest).deltaText == MockScript.replyTokens(count: 80).joined())
        }
    }

    @Test func eventsOfAFinishedMessageAreItsFinalState() async throws {
        try await TestParley.with { parley in
            let conversation = try await parley.createConversation()
            let events = try await parley.chat(conversation, "hi")
            let assistant = try #require(events.last?.data["id"] as? String)
            let replay = try await parley.events(.GET, "/api/v1/messages/\(assistant)/events").rest()
            #expect(replay.map(\.name) == ["message", "done"])
            #expect(replay.last?.content == events.last?.content)
            let user = try #require(events.first?.data["id"] as? String)
            let userEvents = try await parley.request(.GET, "/api/v1/messages/\(user)/events")
            #expect(userEvents.status == 400)
        }
    }

    @Test func partialTextIsSavedWhileGenerating() async throws {
        try await TestParley.with(mockOptions: Self.slowMock(tokens: 100, delayMs: 20)) { parley in
            let conversation = try await parley.createConversation()
            let reader = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                                 body: #"{"content":"hi"}"#)
            let head = try await reader.read { $0.name == "delta" }
            let assistant = try #require(head[1].data["id"] as? String)
            let partial = try await parley.waitForMessage(assistant) {
                !(($0["content"] as? String) ?? "").isEmpty
            }
            #expect(partial["status"] as? String == "streaming", "saved before the answer finished")
            _ = try await reader.rest()
        }
    }

    @Test func historyIsSentUpstreamAndSurvivesInOrder() async throws {
        var options = MockLLMServer.Options()
        options.defaults = MockScript(tokens: 4)
        options.defaults.echo = true
        try await TestParley.with(mockOptions: options) { parley in
            let conversation = try await parley.createConversation(#"{"system_prompt":"Be terse."}"#)
            for question in ["one", "two", "three"] { _ = try await parley.chat(conversation, question) }
            let messages = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages")
                .decode(MessagePageJSON.self).data
            #expect(messages.map(\.index) == Array(1...6))
            #expect(messages.map(\.role) == ["user", "assistant", "user", "assistant", "user", "assistant"])
            #expect(messages[5].content == MockScript.replyTokens(count: 4, echoing: "three").joined())
            let promptTokens = messages.compactMap { $0.usage?.prompt_tokens }
            #expect(promptTokens.count == 3 && promptTokens[0] < promptTokens[1] && promptTokens[1] < promptTokens[2],
                    "each turn sends the history before it: \(promptTokens)")
        }
    }

    @Test func contextIsCutToTheTokenBudget() async throws {
        try await TestParley.with(configure: { $0.limits.contextTokenBudget = 60 }) { parley in
            let conversation = try await parley.createConversation(#"{"system_prompt":"Be terse."}"#)
            for index in 0..<8 {
                _ = try await parley.chat(conversation, "question number \(index) with some padding words mock:tokens=8")
            }
            let messages = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages?limit=200")
                .decode(MessagePageJSON.self).data
            let prompts = messages.compactMap { $0.usage?.prompt_tokens }
            #expect(prompts.count == 8)
            // The mock counts tokens the way Parley estimates them, so the budget holds exactly.
            #expect(prompts.allSatisfy { $0 <= 60 }, "\(prompts)")
            #expect(prompts.last! > 20, "the system prompt and the newest message are always sent: \(prompts)")
        }
    }

    @Test func longHistoriesAreReadPastTheFirstPage() async throws {
        try await TestParley.with { parley in
            let conversation = try await parley.createConversation(#"{"system_prompt":"Be terse."}"#)
            for index in 0..<40 { _ = try await parley.chat(conversation, "question \(index) mock:tokens=2") }
            let messages = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages?limit=200")
                .decode(MessagePageJSON.self).data
            #expect(messages.count == 80)
            func cost(_ text: String) -> Int { (text.utf8.count + 3) / 4 + 4 }
            // The last turn sent the system prompt, all 79 earlier messages (more than the first page of 32)
            // and its own question; the mock counts tokens the way Parley estimates them.
            let expected = cost("Be terse.") + messages.dropLast().reduce(0) { $0 + cost($1.content) }
            #expect(messages.last?.usage?.prompt_tokens == expected)
        }
    }

    @Test func shutdownInterruptsWhatCannotFinishInTime() async throws {
        let parley = try await TestParley.start(mockOptions: Self.slowMock(tokens: 1000, delayMs: 20))
        let conversation = try await parley.createConversation()
        let reader = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                             body: #"{"content":"hi"}"#)
        let head = try await reader.read { $0.name == "delta" }
        #expect(head.count == 3)
        try await parley.server.stop()
        let rest = try await reader.rest()
        #expect(rest.last?.name == "done")
        #expect(rest.last?.status == "interrupted")
        try? await parley.mock?.stop()
        try? await parley.client.shutdown()
        try? FileManager.default.removeItem(atPath: parley.directory)
    }

    @Test func shutdownLetsShortAnswersFinish() async throws {
        let parley = try await TestParley.start(mockOptions: Self.slowMock(tokens: 15, delayMs: 20),
                                                configure: { $0.shutdownGrace = .seconds(5) })
        let conversation = try await parley.createConversation()
        let reader = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                             body: #"{"content":"hi"}"#)
        _ = try await reader.read { $0.name == "delta" }
        try await parley.server.stop()
        let rest = try await reader.rest()
        #expect(rest.last?.name == "done")
        #expect(rest.last?.status == "complete", "a rolling restart does not cut an answer that can finish")
        #expect(rest.last?.content == MockScript.replyTokens(count: 15).joined())
        try? await parley.mock?.stop()
        try? await parley.client.shutdown()
        try? FileManager.default.removeItem(atPath: parley.directory)
    }

    @Test func fiftyConcurrentPostersLoseNothing() async throws {
        try await TestParley.with { parley in
            let conversation = try await parley.createConversation()
            try await withThrowingTaskGroup(of: String?.self) { group in
                for index in 0..<50 {
                    group.addTask { try await parley.chat(conversation, "question \(index)").last?.status }
                }
                for try await status in group { #expect(status == "complete") }
            }
            let page = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages?limit=200").json
            let messages = try #require(page["data"] as? [[String: Any]])
            #expect(messages.count == 100)
            #expect(messages.compactMap { $0["index"] as? Int } == Array(1...100))
            let questions = Set(messages.filter { $0["role"] as? String == "user" }.compactMap { $0["content"] as? String })
            #expect(questions == Set((0..<50).map { "question \($0)" }))
            #expect(messages.filter { $0["role"] as? String == "assistant" }.allSatisfy { $0["status"] as? String == "complete" })
        }
    }

    @Test func demoModelAnswersWithoutAnUpstream() async throws {
        try await TestParley.with(withUpstream: false) { parley in
            let models = try await parley.request(.GET, "/api/v1/models").json
            let ids = (models["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(ids == ["demo"])
            #expect(models["default"] as? String == "demo")
            let conversation = try await parley.createConversation()
            let events = try await parley.chat(conversation, "hello?")
            #expect(events.last?.status == "complete")
            let answer = events.last?.content ?? ""
            #expect(answer.contains("not a language model"))
            #expect(answer.contains("OPENAI_BASE_URL"))
            #expect(events.filter { $0.name == "delta" }.count > 10, "it streams word by word")
        }
    }
}
