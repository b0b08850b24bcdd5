import Foundation
import ParleyCore
import Testing
@testable import ParleyServer

@Suite struct MessageJSONTests {
    @Test func streamEventsAreFramedWithTheirTextQuoted() throws {
        func frame(_ payload: GenerationEvent.Payload, visitor: Bool = false) -> String {
            var frame: [UInt8] = []
            ServerSentEvents.EventEncoder(forVisitor: visitor).encode(GenerationEvent(id: 42, payload: payload), into: &frame)
            return String(decoding: frame, as: UTF8.self)
        }
        let id = "0199aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee"
        #expect(frame(.delta(messageID: id, content: "plain")) == """
            id: 42\nevent: delta\ndata: {"message_id":"\(id)","content":"plain"}\n\n
            """)
        let awkward = "quote \" backslash \\ newline \n control \u{1} emoji 😀 \u{2028}" + String(repeating: "long ", count: 100)
        let text = frame(.reasoning(messageID: id, content: awkward))
        #expect(text.hasPrefix("id: 42\nevent: reasoning\ndata: {") && text.hasSuffix("}\n\n") && !text.contains("\u{2028}"))
        let data = try #require(text.split(separator: "\n").first { $0.hasPrefix("data: ") }).dropFirst(6)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any])
        #expect(object["content"] as? String == awkward && object["message_id"] as? String == id)
        #expect(frame(.usage(messageID: id, TokenUsage(promptTokens: 3, completionTokens: 4))) == """
            id: 42\nevent: usage\ndata: {"message_id":"\(id)","prompt_tokens":3,"completion_tokens":4,"total_tokens":7}\n\n
            """)
        // A batch of events is one array: each frame follows the one before.
        var batch: [UInt8] = []
        let encoder = ServerSentEvents.EventEncoder()
        encoder.encode(GenerationEvent(id: 1, payload: .delta(messageID: id, content: "a")), into: &batch)
        encoder.encode(GenerationEvent(id: 2, payload: .delta(messageID: id, content: "b")), into: &batch)
        let first = frame(.delta(messageID: id, content: "a")).replacingOccurrences(of: "id: 42", with: "id: 1")
        let second = frame(.delta(messageID: id, content: "b")).replacingOccurrences(of: "id: 42", with: "id: 2")
        #expect(String(decoding: batch, as: UTF8.self) == first + second)
        #expect(frame(.reasoning(messageID: id, content: "hidden"), visitor: true).isEmpty)
        #expect(frame(.usage(messageID: id, TokenUsage(promptTokens: 3, completionTokens: 4)), visitor: true).isEmpty)
        #expect(frame(.delta(messageID: id, content: "shown"), visitor: true).contains(#""content":"shown""#))
    }

    @Test func everyFieldSurvivesAStandardJSONParser() throws {
        let now = Date(timeIntervalSince1970: 1_763_748_382.463)
        let message = Message(id: .v7(), conversationID: .v7(), index: 7, parentID: .v7(), role: .assistant,
                              content: "quote \" backslash \\ newline \n tab \t nul-free control \u{1} emoji 😀 \u{2028}",
                              model: "m\"1", status: .error, errorMessage: "upstream said \"no\"", promptTokens: 5,
                              completionTokens: 2, timeToFirstTokenMs: 12, latencyMs: 40, createdAt: now, updatedAt: now,
                              feedback: Feedback(rating: -1, comment: "meh\n", updatedAt: now))
        let text = API.messageJSON(message)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["content"] as? String == message.content)
        #expect(object["model"] as? String == "m\"1")
        #expect(object["error"] as? String == "upstream said \"no\"")
        #expect(object["index"] as? Int == 7)
        #expect(object["parent_id"] as? String == message.parentID?.lowercased)
        #expect(object["created_at"] as? String == "2025-11-21T18:06:22.463Z")
        let usage = try #require(object["usage"] as? [String: Any])
        #expect(usage["total_tokens"] as? Int == 7)
        let feedback = try #require(object["feedback"] as? [String: Any])
        #expect(feedback["rating"] as? Int == -1 && feedback["comment"] as? String == "meh\n")
        #expect(!text.contains("\n"), "one line, so it fits in one SSE data field")
    }

    @Test func absentFieldsAreLeftOut() throws {
        let now = Date()
        let message = Message(id: .v7(), conversationID: .v7(), index: 1, parentID: nil, role: .user, content: "",
                              model: nil, status: .complete, createdAt: now, updatedAt: now)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(API.messageJSON(message).utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["id", "conversation_id", "index", "role", "content", "status", "created_at", "updated_at",
                                     "active"])
    }

    @Test func citationsCountTheStoredSourcesWithoutDecodingThem() throws {
        let now = Date()
        let sources = #"[{"number":1,"snippet":"a \"quoted\" [2] ] } , text"},{"number":2,"snippet":"\u00e9\n"},{"number":3}]"#
        #expect(API.sourceCount(sources) == 3 && API.sourceCount("[]") == 0 && API.sourceCount("not json") == 0)
        var message = Message(id: .v7(), conversationID: .v7(), index: 2, parentID: nil, role: .assistant,
                              content: "See [3], then [2] and [3] again; [4] is not a source.", model: "m", status: .complete,
                              createdAt: now, updatedAt: now)
        message.sources = sources
        let object = try #require(try JSONSerialization.jsonObject(with: Data(API.messageJSON(message).utf8)) as? [String: Any])
        #expect(object["citations"] as? [Int] == [3, 2])
        #expect((object["sources"] as? [Any])?.count == 3)
    }
}
