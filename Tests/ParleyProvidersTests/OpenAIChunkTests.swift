import Foundation
import ParleyCore
import ParleyGateway
import Testing
@testable import ParleyProviders

@Suite struct OpenAIChunkTests {
    @Test func readsContentFinishReasonAndUsage() throws {
        let chunk = try OpenAIChunk(parsing: Array(#"""
            {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":null,
             "choices":[{"index":0,"delta":{"role":"assistant","content":"Hi \"there\" \\ \/ \n\t\u00e9\ud83d\ude00","tool_calls":[{"x":[1,2,{"y":null}]}]},
                         "logprobs":null,"finish_reason":"stop"}],
             "usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"details":{"cached":0}}}
            """#.utf8))
        #expect(chunk.contents == ["Hi \"there\" \\ / \n\té😀"])
        #expect(chunk.finishReason == "stop")
        #expect(chunk.usage?.promptTokens == 12 && chunk.usage?.completionTokens == 3)
        #expect(!chunk.hasError)
    }

    @Test func reasoningIsReadFromEitherFieldBeforeTheText() throws {
        let vllm = try OpenAIChunk(parsing: Array(#"{"choices":[{"index":0,"delta":{"reasoning_content":"Let me think.","content":"4"}}]}"#.utf8))
        #expect(vllm.events == [.reasoning("Let me think."), .text("4")])
        let router = try OpenAIChunk(parsing: Array(#"{"choices":[{"delta":{"reasoning":"Hmm","content":null}}]}"#.utf8))
        #expect(router.events == [.reasoning("Hmm")])
        let structured = try OpenAIChunk(parsing: Array(#"{"choices":[{"delta":{"reasoning":{"effort":"low"},"reasoning_content":null,"content":"x"}}]}"#.utf8))
        #expect(structured.events == [.text("x")], "a reasoning object or null is skipped")
        let whole = try OpenAIChunk(parsing: Array(#"{"choices":[{"message":{"role":"assistant","reasoning_content":"r","content":"a"},"finish_reason":"length"}]}"#.utf8))
        #expect(whole.events == [.reasoning("r"), .text("a"), .finish(reason: "length")])
        // Whatever order the JSON has them in: reasoning, then text, then tool calls, each kind in its own order.
        let mixed = try OpenAIChunk(parsing: Array(#"""
            {"usage":{"prompt_tokens":1,"completion_tokens":2},"choices":[
             {"finish_reason":"stop","delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}],"content":"t1","reasoning":"r1"}},
             {"delta":{"content":"t2","reasoning_content":"r2"}}]}
            """#.utf8))
        #expect(mixed.events == [.reasoning("r1"), .reasoning("r2"), .text("t1"), .text("t2"),
                                 .toolCall(index: 0, id: nil, name: nil, arguments: "{}"), .finish(reason: "stop"),
                                 .usage(TokenUsage(promptTokens: 1, completionTokens: 2))])
        #expect(mixed.contents == ["t1", "t2"])
    }

    @Test func nullsAndEmptyChoices() throws {
        let chunk = try OpenAIChunk(parsing: Array(#"{"choices":[],"usage":null,"error":null}"#.utf8))
        #expect(chunk.contents.isEmpty && chunk.usage == nil && !chunk.hasError)
        let empty = try OpenAIChunk(parsing: Array(#"{"choices":[{"delta":{"content":null},"finish_reason":null}]}"#.utf8))
        #expect(empty.contents.isEmpty && empty.finishReason == nil)
    }

    @Test func errorsInBothShapes() throws {
        let object = try OpenAIChunk(parsing: Array(#"{"error":{"message":"overloaded","type":"server_error"}}"#.utf8))
        #expect(object.hasError && object.errorMessage == "overloaded")
        let text = try OpenAIChunk(parsing: Array(#"{"error":"boom"}"#.utf8))
        #expect(text.hasError && text.errorMessage == "boom")
    }

    @Test(arguments: [
        "", "{", "{not json", #"{"choices":[{"delta":{"content":"x"}]}"#, #"{"a":1}x"#, #"{"a":"\q"}"#,
        #"{"a":"\ud800"}"#, "[1,2]", #"{"a":tru}"#, "{\"a\":\"line\nbreak\"}",
    ])
    func rejectsWhatIsNotAnObject(_ text: String) {
        #expect(throws: JSONScanner.Malformed.self) { try OpenAIChunk(parsing: Array(text.utf8)) }
    }

    @Test func agreesWithJSONSerializationOnStrings() throws {
        var generator = SeededGenerator(seed: 7)
        let alphabet = Array("aZ09 \"\\/\n\t\r\u{0001}é日😀\u{2028}")
        for _ in 0..<500 {
            let text = String((0..<Int.random(in: 0...20, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            let json = try JSONSerialization.data(withJSONObject: ["choices": [["delta": ["content": text]]]])
            let chunk = try OpenAIChunk(parsing: Array(json))
            #expect(chunk.contents == (text.isEmpty ? [] : [text]), "\(text.debugDescription)")
        }
    }
}

@Suite struct RequestBodyTests {
    @Test func theRequestBodyIsValidJSONWithEveryField() throws {
        var generator = SeededGenerator(seed: 11)
        let alphabet = Array("aZ09 \"\\/\n\t\r\u{0001}\u{001F}é日😀\u{2028}\u{2029}")
        for _ in 0..<300 {
            let text = String((0..<Int.random(in: 0...30, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            let request = ChatRequest(model: "m\"x", messages: [ChatMessage(role: .system, content: "sys"),
                                                                ChatMessage(role: .user, content: text)],
                                      maxTokens: 12, temperature: 0.5)
            let written = ChatCompletionBody(chat: request)
            // What the chat path knows without reading its body back is what reading it back finds.
            let read = try ChatCompletionBody(parsing: written.bytes)
            #expect(read.model == written.model && read.stream == written.stream && read.includeUsage == written.includeUsage)
            #expect(read.maxTokens == written.maxTokens && read.temperature == written.temperature)
            #expect(read.hasSeed == written.hasSeed && read.isDeterministic == written.isDeterministic)
            #expect(written.body(model: "upstream-name") == read.body(model: "upstream-name"))
            let body = String(decoding: written.bytes, as: UTF8.self)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            #expect(object["model"] as? String == "m\"x")
            let messages = try #require(object["messages"] as? [[String: String]])
            #expect(messages.map { $0["content"] } == ["sys", text], "\(text.debugDescription)")
            #expect(messages.map { $0["role"] } == ["system", "user"])
            #expect(object["stream"] as? Bool == true && object["max_tokens"] as? Int == 12)
            #expect(object["temperature"] as? Double == 0.5)
            #expect((object["stream_options"] as? [String: Bool])?["include_usage"] == true)
        }
    }
}
