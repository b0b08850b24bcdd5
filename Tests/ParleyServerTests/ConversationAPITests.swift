import Foundation
import ParleyMockLLM
import ParleyTestSupport
import Testing

/// Conversations, history paging, feedback, models and health through the HTTP API.
@Suite struct ConversationAPITests {
    struct ConversationJSON: Decodable {
        var id: String
        var title: String
        var model: String?
        var system_prompt: String?
        var message_count: Int
    }

    struct ConversationListJSON: Decodable {
        var data: [ConversationJSON]
        var next_cursor: String?
    }

    @Test func createRenameListSearchDelete() async throws {
        try await TestParley.with { parley in
            let created = try await parley.request(.POST, "/api/v1/conversations",
                                                   body: #"{"title":"Trip planning","model":"mock-2","system_prompt":"Be brief."}"#)
            #expect(created.status == 201)
            let conversation = try created.decode(ConversationJSON.self)
            #expect(created.headers["location"] == "/api/v1/conversations/\(conversation.id)")
            #expect(conversation.title == "Trip planning" && conversation.model == "mock-2")
            #expect(conversation.system_prompt == "Be brief." && conversation.message_count == 0)

            let renamed = try await parley.request(.PATCH, "/api/v1/conversations/\(conversation.id)",
                                                   body: #"{"title":"Paris","system_prompt":null}"#)
            #expect(renamed.status == 200)
            let patched = try renamed.decode(ConversationJSON.self)
            #expect(patched.title == "Paris" && patched.system_prompt == nil && patched.model == "mock-2")

            for index in 0..<4 { _ = try await parley.createConversation(#"{"title":"other \#(index)"}"#) }
            var titles: [String] = []
            var cursor: String?
            repeat {
                let query = cursor.map { "&cursor=\($0)" } ?? ""
                let page = try await parley.request(.GET, "/api/v1/conversations?limit=2\(query)").decode(ConversationListJSON.self)
                #expect(page.data.count <= 2)
                titles += page.data.map(\.title)
                cursor = page.next_cursor
            } while cursor != nil
            #expect(titles == ["other 3", "other 2", "other 1", "other 0", "Paris"])

            let found = try await parley.request(.GET, "/api/v1/conversations?q=PAR").decode(ConversationListJSON.self)
            #expect(found.data.map(\.title) == ["Paris"])

            let events = try await parley.chat(conversation.id, "hello")
            #expect(events.last?.data["model"] as? String == "mock-2", "the conversation's model is used")

            #expect(try await parley.request(.DELETE, "/api/v1/conversations/\(conversation.id)").status == 204)
            #expect(try await parley.request(.GET, "/api/v1/conversations/\(conversation.id)").status == 404)
            let assistant = try #require(events.last?.data["id"] as? String)
            #expect(try await parley.request(.GET, "/api/v1/messages/\(assistant)").status == 404)
        }
    }

    struct SearchJSON: Decodable {
        struct Hit: Decodable {
            var id: String
            var conversation_id: String
            var conversation_title: String
            var index: Int
            var role: String
            var snippet: String
            var score: Double
        }
        struct TitleHit: Decodable {
            var conversation: ConversationJSON
            var score: Double
        }
        var query: [String]
        var conversations: [TitleHit]
        var messages: [Hit]
        var next_offset: Int?
    }

    @Test func searchFindsAnswersAndTitlesOverHTTP() async throws {
        try await TestParley.with { parley in
            let conversation = try await parley.createConversation(#"{"title":"Mock poetry"}"#)
            let events = try await parley.chat(conversation, "Recite something mock:tokens=12")
            #expect(events.last?.name == "done")
            let answer = MockScript.replyTokens(count: 12).joined()
            let word = try #require(answer.split(separator: " ").dropFirst(3).first.map(String.init))
            let reply = try await parley.request(.GET, "/api/v1/search?q=\(word)&limit=5")
            #expect(reply.status == 200)
            let found = try reply.decode(SearchJSON.self)
            #expect(found.query == [word.lowercased()])
            let hit = try #require(found.messages.first)
            #expect(hit.conversation_id == conversation && hit.role == "assistant" && hit.index == 2)
            #expect(hit.conversation_title == "Mock poetry" && hit.snippet.contains(word) && found.next_offset == nil)
            let titles = try await parley.request(.GET, "/api/v1/search?q=POET").decode(SearchJSON.self)
            #expect(titles.conversations.map(\.conversation.id) == [conversation] && titles.messages.isEmpty)
        }
    }

    @Test func firstMessageTitlesAnUntitledConversation() async throws {
        try await TestParley.with { parley in
            let conversation = try await parley.createConversation()
            _ = try await parley.chat(conversation, "How do I bake bread?\nI have flour.")
            let reply = try await parley.request(.GET, "/api/v1/conversations/\(conversation)").decode(ConversationJSON.self)
            #expect(reply.title == "How do I bake bread?")
            #expect(reply.message_count == 2)
        }
    }

    @Test func historyPagesBackwards() async throws {
        try await TestParley.with { parley in
            let conversation = try await parley.createConversation()
            for index in 0..<6 { _ = try await parley.chat(conversation, "q\(index)") }
            let latest = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages?limit=5")
                .decode(MessagePageJSON.self)
            #expect(latest.data.map(\.index) == Array(8...12))
            #expect(latest.has_more && latest.next_before == 8)
            let older = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages?limit=5&before=8")
                .decode(MessagePageJSON.self)
            #expect(older.data.map(\.index) == Array(3...7))
            let oldest = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages?limit=5&before=3")
                .decode(MessagePageJSON.self)
            #expect(oldest.data.map(\.index) == [1, 2] && !oldest.has_more && oldest.next_before == nil)
            #expect(latest.next_after == nil && older.next_after == nil)
        }
    }

    @Test func historyPagesForwardFromAnyIndex() async throws {
        try await TestParley.with { parley in
            let conversation = try await parley.createConversation()
            for index in 0..<6 { _ = try await parley.chat(conversation, "q\(index)") }
            let path = "/api/v1/conversations/\(conversation)/messages"
            let start = try await parley.request(.GET, path + "?limit=5&after=0").decode(MessagePageJSON.self)
            #expect(start.data.map(\.index) == Array(1...5) && start.has_more && start.next_after == 5 && start.next_before == nil)
            let next = try await parley.request(.GET, path + "?limit=5&after=5").decode(MessagePageJSON.self)
            #expect(next.data.map(\.index) == Array(6...10) && next.next_after == 10)
            let end = try await parley.request(.GET, path + "?limit=5&after=10").decode(MessagePageJSON.self)
            #expect(end.data.map(\.index) == [11, 12] && !end.has_more && end.next_after == nil)
            let beyond = try await parley.request(.GET, path + "?after=12").decode(MessagePageJSON.self)
            #expect(beyond.data.isEmpty && !beyond.has_more)

            for query in ["before=5&after=2", "after=-1", "after=x", "after=99999999999"] {
                let refused = try await parley.request(.GET, path + "?" + query)
                #expect(refused.status == 400 && (refused.json["error"] as? [String: Any])?["type"] as? String == "invalid_request",
                        "\(query)")
            }
            let unknown = try await parley.request(.GET, "/api/v1/conversations/\(UUID())/messages?after=0")
            #expect(unknown.status == 404)
        }
    }

    @Test func clearingHistoryStopsRunningAnswersAndKeepsTheConversation() async throws {
        var options = MockLLMServer.Options()
        options.defaults = MockScript(tokens: 1000, tokenDelayMs: 20)
        try await TestParley.with(mockOptions: options) { parley in
            let conversation = try await parley.createConversation(#"{"title":"keep me"}"#)
            let reader = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                                 body: #"{"content":"long answer please"}"#)
            _ = try await reader.read { $0.name == "delta" }
            #expect(try await parley.request(.DELETE, "/api/v1/conversations/\(conversation)/messages").status == 204)
            let rest = try await reader.rest()
            #expect(rest.last?.name == "done" && rest.last?.status == "cancelled")
            let page = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages").decode(MessagePageJSON.self)
            #expect(page.data.isEmpty)
            let kept = try await parley.request(.GET, "/api/v1/conversations/\(conversation)").decode(ConversationJSON.self)
            #expect(kept.title == "keep me" && kept.message_count == 0)
        }
    }

    @Test func feedbackIsStoredAndReturnedWithTheMessage() async throws {
        try await TestParley.with { parley in
            let conversation = try await parley.createConversation()
            let events = try await parley.chat(conversation, "hi")
            let assistant = try #require(events.last?.data["id"] as? String)
            let put = try await parley.request(.PUT, "/api/v1/messages/\(assistant)/feedback",
                                               body: #"{"rating":-1,"comment":"too long"}"#)
            #expect(put.status == 200)
            #expect(put.json["rating"] as? Int == -1)
            var message = try await parley.request(.GET, "/api/v1/messages/\(assistant)").decode(MessageJSON.self)
            #expect(message.feedback?.rating == -1 && message.feedback?.comment == "too long")
            _ = try await parley.request(.PUT, "/api/v1/messages/\(assistant)/feedback", body: #"{"rating":1}"#)
            let page = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages").decode(MessagePageJSON.self)
            #expect(page.data.last?.feedback?.rating == 1 && page.data.last?.feedback?.comment == nil)
            #expect(try await parley.request(.DELETE, "/api/v1/messages/\(assistant)/feedback").status == 204)
            message = try await parley.request(.GET, "/api/v1/messages/\(assistant)").decode(MessageJSON.self)
            #expect(message.feedback == nil)
        }
    }

    @Test func clientsThatAskForJSONGetTheWholeAnswer() async throws {
        try await TestParley.with { parley in
            let conversation = try await parley.createConversation()
            let reply = try await parley.request(.POST, "/api/v1/conversations/\(conversation)/messages",
                                                 body: #"{"content":"hi mock:tokens=5"}"#, headers: ["Accept": "application/json"])
            #expect(reply.status == 201)
            #expect(reply.headers["content-type"]?.hasPrefix("application/json") == true)
            struct Turn: Decodable { var user: MessageJSON; var assistant: MessageJSON }
            let turn = try reply.decode(Turn.self)
            #expect(turn.user.content == "hi mock:tokens=5")
            #expect(turn.assistant.status == "complete")
            #expect(turn.assistant.content == MockScript.replyTokens(count: 5).joined())
            #expect(turn.assistant.usage?.completion_tokens == 5)
        }
    }

    @Test func modelsAndHealth() async throws {
        try await TestParley.with { parley in
            let models = try await parley.request(.GET, "/api/v1/models")
            #expect(models.status == 200)
            let ids = (models.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(ids == ["mock-1", "mock-2"])
            #expect(models.json["default"] as? String == "mock-1")
            #expect(try await parley.request(.GET, "/health/live").status == 200)
            let ready = try await parley.request(.GET, "/health/ready")
            #expect(ready.status == 200 && ready.json["database"] as? String == "ok")
        }
    }
}
