import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ParleyCore
import ParleyGateway
import ParleyMockLLM
import ParleyTestSupport
import Synchronization
import Testing
@testable import ParleyProviders

/// Anthropic's Messages API behind OpenAI's shapes, against answers recorded from Anthropic's documentation
/// and replayed over loopback by a real HTTP server.
@Suite struct AnthropicProviderTests {
    static func fixture(_ name: String) throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/anthropic/\(name)")
        return try String(contentsOf: url, encoding: .utf8)
    }

    static let limits = AttemptLimits(timeout: .seconds(30), firstToken: .seconds(20), idle: .seconds(20))

    func body(_ json: String) throws -> ChatCompletionBody {
        try ChatCompletionBody(parsing: Array(json.utf8))
    }

    /// Runs `test` with a provider pointed at a fixture server.
    func withProvider(_ test: (AnthropicProvider, FixtureServer) async throws -> Void) async throws {
        let fixtures = FixtureServer()
        let server = try await fixtures.start()
        let client = OpenAICompatibleProvider.makeHTTPClient(timeouts: UpstreamTimeouts())
        let provider = AnthropicProvider(baseURL: "http://127.0.0.1:\(server.port)/v1/", apiKey: "sk-ant-test", client: client)
        do {
            try await test(provider, fixtures)
        } catch {
            try await client.shutdown()
            try await server.stop()
            throw error
        }
        try await client.shutdown()
        try await server.stop()
    }

    /// Every chunk object of a stream, decoded; each chunk's typed events must say what its bytes say.
    func chunks(_ stream: UpstreamStream) async throws -> [[String: Any]] {
        var result: [[String: Any]] = []
        while let batch = try await stream.next() {
            for payload in batch {
                #expect(try StreamChunk(parsing: payload.bytes).events == payload.events, "\(String(buffer: payload.bytes))")
                result.append(try #require(try JSONSerialization.jsonObject(with: Data(payload.bytes.readableBytesView)) as? [String: Any]))
            }
        }
        return result
    }

    static func delta(_ chunk: [String: Any]) -> [String: Any]? {
        ((chunk["choices"] as? [[String: Any]])?.first)?["delta"] as? [String: Any]
    }

    static func finish(_ chunks: [[String: Any]]) -> String? {
        chunks.compactMap { ((($0["choices"] as? [[String: Any]])?.first)?["finish_reason"] as? String) }.last
    }

    @Test func requestIsTranslatedToTheMessagesAPI() throws {
        let request = try body("""
            {"model":"smart","stream":true,"max_tokens":300,"temperature":0.5,"stop":"END","user":"u-1","extra_field":1,
             "messages":[{"role":"system","content":"Be brief."},{"role":"developer","content":"Use metric units."},
               {"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
               {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}}]},
               {"role":"tool","tool_call_id":"call_1","content":"18 C"},
               {"role":"user","content":"Thanks"}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
             "tool_choice":"required"}
            """)
        let translated = try AnthropicTranslation.requestBody(request, model: "claude-sonnet-4-5")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(translated)) as? [String: Any])
        #expect(object["model"] as? String == "claude-sonnet-4-5")
        #expect(object["system"] as? String == "Be brief.\n\nUse metric units.")
        #expect(object["max_tokens"] as? Int == 300)
        #expect(object["stream"] as? Bool == true)
        #expect(object["stop_sequences"] as? [String] == ["END"])
        #expect((object["metadata"] as? [String: Any])?["user_id"] as? String == "u-1")
        #expect(object["extra_field"] == nil, "OpenAI-only fields are not sent to Anthropic")
        #expect((object["tool_choice"] as? [String: Any])?["type"] as? String == "any")
        let tool = try #require((object["tools"] as? [[String: Any]])?.first)
        #expect(tool["name"] as? String == "get_weather" && tool["input_schema"] != nil)

        let messages = try #require(object["messages"] as? [[String: Any]])
        #expect(messages.map { $0["role"] as? String } == ["user", "assistant", "user"],
                "the tool result and the next user text merge into one user turn")
        let first = try #require(messages[0]["content"] as? [[String: Any]])
        #expect(first[0]["text"] as? String == "What is this?")
        let image = try #require(first[1]["source"] as? [String: Any])
        #expect(image["type"] as? String == "base64" && image["media_type"] as? String == "image/png")
        let toolUse = try #require((messages[1]["content"] as? [[String: Any]])?.first)
        #expect(toolUse["type"] as? String == "tool_use" && toolUse["id"] as? String == "call_1")
        #expect((toolUse["input"] as? [String: Any])?["city"] as? String == "Paris")
        let last = try #require(messages[2]["content"] as? [[String: Any]])
        #expect(last[0]["type"] as? String == "tool_result" && last[0]["tool_use_id"] as? String == "call_1")
        #expect(last[1]["text"] as? String == "Thanks")
    }

    @Test func maxTokensDefaultsAndUnsupportedRequestsAreRefused() throws {
        let plain = try AnthropicTranslation.requestBody(try body(#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#), model: "m")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(plain)) as? [String: Any])
        #expect(object["max_tokens"] as? Int == AnthropicTranslation.defaultMaxTokens)
        #expect(throws: InvalidGatewayRequest.self) {
            try AnthropicTranslation.requestBody(try body(#"{"model":"m","n":2,"messages":[{"role":"user","content":"hi"}]}"#), model: "m")
        }
        #expect(throws: InvalidGatewayRequest.self) {
            try AnthropicTranslation.requestBody(try body(#"{"model":"m","messages":[{"role":"system","content":"only a system prompt"}]}"#), model: "m")
        }
    }

    @Test func streamedTextBecomesOpenAIChunksWithUsage() async throws {
        try await withProvider { provider, fixtures in
            fixtures.enqueue(.init(contentType: "text/event-stream", body: try Self.fixture("stream-text.sse")), on: "/v1/messages")
            let request = try body(#"{"model":"smart","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"system","content":"sys"},{"role":"user","content":"hi"}]}"#)
            let chunks = try await chunks(try await provider.stream(request, model: "claude-sonnet-4-5", limits: Self.limits))
            let text = chunks.compactMap { Self.delta($0)?["content"] as? String }.joined()
            #expect(text == "Hello! How can I help?")
            #expect(Self.delta(chunks[0])?["role"] as? String == "assistant")
            #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" && $0["id"] as? String == "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY" })
            #expect(Self.finish(chunks) == "stop")
            let usage = try #require(chunks.last?["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == 25 && usage["completion_tokens"] as? Int == 15 && usage["total_tokens"] as? Int == 40)

            let sent = try #require(fixtures.received.withLock { $0.first })
            #expect(sent.path == "/v1/messages")
            #expect(sent.headers["x-api-key"] == "sk-ant-test" && sent.headers["anthropic-version"] == AnthropicProvider.version)
            #expect(sent.headers["authorization"] == nil)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(sent.body.utf8)) as? [String: Any])
            #expect(object["system"] as? String == "sys" && object["stream"] as? Bool == true)
        }
    }

    @Test func thinkingBlocksStreamAsReasoningApartFromTheAnswer() async throws {
        try await withProvider { provider, fixtures in
            fixtures.enqueue(.init(contentType: "text/event-stream", body: try Self.fixture("stream-thinking.sse")), on: "/v1/messages")
            let request = try body(#"{"model":"m","stream":true,"reasoning_effort":"medium","messages":[{"role":"user","content":"27*453?"}]}"#)
            let stream = try await provider.stream(request, model: "claude-sonnet-4-5", limits: Self.limits)
            let pieces = Mutex<[AnswerDelta]>([])
            _ = try await ChatStreamReader.read(stream) { piece in pieces.withLock { $0.append(piece) } }
            #expect(pieces.withLock { $0 } == [.reasoning("The user asks for 27 * 453. "), .reasoning("27 * 453 = 12231."),
                                              .text("27 x 453 = 12,231.")], "the signature is not reasoning text")
            let sent = try #require(fixtures.received.withLock { $0.first })
            let object = try #require(try JSONSerialization.jsonObject(with: Data(sent.body.utf8)) as? [String: Any])
            let thinking = try #require(object["thinking"] as? [String: Any])
            #expect(thinking["type"] as? String == "enabled" && thinking["budget_tokens"] as? Int == 4096)
            #expect((object["max_tokens"] as? Int ?? 0) > 4096, "room for the answer after the thinking budget")
        }
    }

    @Test func reasoningEffortBecomesAThinkingBudgetOrAClearError() throws {
        func translated(_ json: String) throws -> [String: Any] {
            let bytes = try AnthropicTranslation.requestBody(try body(json), model: "m")
            return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        }
        let low = try translated(#"{"model":"m","max_tokens":200,"reasoning_effort":"low","messages":[{"role":"user","content":"hi"}]}"#)
        #expect((low["thinking"] as? [String: Any])?["budget_tokens"] as? Int == 1024)
        #expect(low["max_tokens"] as? Int == 1224, "the budget plus the answer's 200")
        let roomy = try translated(#"{"model":"m","max_tokens":20000,"reasoning_effort":"high","messages":[{"role":"user","content":"hi"}]}"#)
        #expect((roomy["thinking"] as? [String: Any])?["budget_tokens"] as? Int == 16384 && roomy["max_tokens"] as? Int == 20000)
        #expect(try translated(#"{"model":"m","reasoning_effort":"minimal","messages":[{"role":"user","content":"hi"}]}"#)["thinking"] == nil)
        #expect(try translated(#"{"model":"m","temperature":1,"reasoning_effort":"low","messages":[{"role":"user","content":"hi"}]}"#)["thinking"] != nil)
        #expect(throws: InvalidGatewayRequest.self) {
            try translated(#"{"model":"m","temperature":0.2,"reasoning_effort":"low","messages":[{"role":"user","content":"hi"}]}"#)
        }
    }

    @Test func streamedToolUseBecomesToolCallDeltas() async throws {
        try await withProvider { provider, fixtures in
            fixtures.enqueue(.init(contentType: "text/event-stream", body: try Self.fixture("stream-tool-use.sse")), on: "/v1/messages")
            let request = try body(#"{"model":"m","stream":true,"messages":[{"role":"user","content":"weather?"}]}"#)
            let chunks = try await chunks(try await provider.stream(request, model: "claude-haiku-4-5", limits: Self.limits))
            let calls = chunks.compactMap { Self.delta($0)?["tool_calls"] as? [[String: Any]] }.flatMap { $0 }
            #expect(calls.first?["id"] as? String == "toolu_01T1x1fJ34qAmk2tNTrN7Up6")
            #expect((calls.first?["function"] as? [String: Any])?["name"] as? String == "get_weather")
            #expect(calls.allSatisfy { $0["index"] as? Int == 0 })
            let arguments = calls.compactMap { ($0["function"] as? [String: Any])?["arguments"] as? String }.joined()
            #expect(arguments == #"{"location": "San Francisco, CA"}"#)
            #expect(Self.finish(chunks) == "tool_calls")
            #expect(!chunks.contains { $0["usage"] != nil }, "no usage chunk unless the client asked for one")
        }
    }

    @Test func anErrorEventMidStreamFailsTheStreamAfterWhatArrived() async throws {
        try await withProvider { provider, fixtures in
            fixtures.enqueue(.init(contentType: "text/event-stream", body: try Self.fixture("stream-overloaded.sse")), on: "/v1/messages")
            let stream = try await provider.stream(try body(#"{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}"#),
                                                   model: "m", limits: Self.limits)
            var text = ""
            do {
                while let batch = try await stream.next() {
                    for payload in batch {
                        let object = try JSONSerialization.jsonObject(with: Data(payload.bytes.readableBytesView)) as? [String: Any]
                        text += object.flatMap { Self.delta($0)?["content"] as? String } ?? ""
                    }
                }
                Issue.record("the stream should have failed")
            } catch let error as ProviderError {
                #expect(error == .http(status: 529, message: "Overloaded", retryAfterSeconds: nil))
            }
            #expect(text == "Partial")
        }
    }

    @Test func wholeAnswersTranslateWithToolCallsAndCachedTokens() async throws {
        try await withProvider { provider, fixtures in
            fixtures.enqueue(.init(contentType: "application/json", body: try Self.fixture("message.json")), on: "/v1/messages")
            fixtures.enqueue(.init(contentType: "application/json", body: try Self.fixture("message-tool-use.json")), on: "/v1/messages")
            let request = try body(#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#)

            let plain = try await provider.complete(request, model: "m", limits: Self.limits)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(plain.body.readableBytesView)) as? [String: Any])
            #expect(object["object"] as? String == "chat.completion")
            let choice = try #require((object["choices"] as? [[String: Any]])?.first)
            #expect((choice["message"] as? [String: Any])?["content"] as? String == "Hi! My name is Claude.")
            #expect(choice["finish_reason"] as? String == "stop")
            #expect(plain.usage == TokenUsage(promptTokens: 2195, completionTokens: 503), "cached prompt tokens count as prompt tokens")

            let tools = try await provider.complete(request, model: "m", limits: Self.limits)
            let toolObject = try #require(try JSONSerialization.jsonObject(with: Data(tools.body.readableBytesView)) as? [String: Any])
            let toolChoice = try #require((toolObject["choices"] as? [[String: Any]])?.first)
            #expect(toolChoice["finish_reason"] as? String == "tool_calls")
            let call = try #require(((toolChoice["message"] as? [String: Any])?["tool_calls"] as? [[String: Any]])?.first)
            #expect(call["id"] as? String == "toolu_01A09q90qw90lq917835lq9")
            let arguments = try #require((call["function"] as? [String: Any])?["arguments"] as? String)
            let parsed = try JSONSerialization.jsonObject(with: Data(arguments.utf8)) as? [String: String]
            #expect(parsed == ["location": "San Francisco, CA", "unit": "celsius"])
        }
    }

    @Test(arguments: [
        ("error-rate-limit.json", 429, "Number of request tokens has exceeded your per-minute rate limit"),
        ("error-overloaded.json", 529, "Overloaded"),
        ("error-invalid-request.json", 400, "max_tokens: Field required"),
    ])
    func errorAnswersKeepTheirStatusMessageAndRetryAfter(file: String, status: Int, message: String) async throws {
        try await withProvider { provider, fixtures in
            fixtures.enqueue(.init(status: status, contentType: "application/json", body: try Self.fixture(file),
                                   headers: status == 429 ? ["retry-after": "7"] : [:]), on: "/v1/messages")
            let request = try body(#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#)
            await #expect(throws: ProviderError.http(status: status, message: message, retryAfterSeconds: status == 429 ? 7 : nil)) {
                try await provider.complete(request, model: "m", limits: Self.limits)
            }
        }
    }

    @Test func theRouterRetriesAnOverloadedAnthropicDeployment() async throws {
        try await withProvider { provider, fixtures in
            fixtures.enqueue(.init(status: 529, contentType: "application/json", body: try Self.fixture("error-overloaded.json")),
                             on: "/v1/messages")
            fixtures.enqueue(.init(contentType: "text/event-stream", body: try Self.fixture("stream-text.sse")), on: "/v1/messages")
            var settings = RouterSettings()
            settings.backoffBase = .milliseconds(10)
            let router = ModelRouter(
                backends: [(UpstreamConfig(name: "claude", baseURL: "http://unused", models: ["smart"], kind: .anthropic,
                                           upstreamNames: ["smart": "claude-sonnet-4-5"]), provider)],
                settings: settings, defaultModel: nil, timeouts: UpstreamTimeouts(), logger: Logger(label: "test"))
            let routed = try await router.routeStream(try body(#"{"model":"smart","stream":true,"messages":[{"role":"user","content":"x"}]}"#),
                                                      limits: Self.limits)
            #expect(routed.attempts == 2 && routed.deployment.id == "claude/claude-sonnet-4-5")
            let text = Mutex("")
            _ = try await ChatStreamReader.read(routed.value.stream, first: routed.value.first) { piece in
                if case .text(let piece) = piece { text.withLock { $0 += piece } }
            }
            #expect(text.withLock { $0 } == "Hello! How can I help?")
            let models = fixtures.received.withLock { $0.map { try? JSONSerialization.jsonObject(with: Data($0.body.utf8)) as? [String: Any] } }
            #expect(models.map { $0?["model"] as? String } == ["claude-sonnet-4-5", "claude-sonnet-4-5"], "the upstream's own model name is sent")
        }
    }
}

/// A chat turn's image, as the chat service writes it, reaches Anthropic as an image block.
@Suite struct ChatImageTranslationTests {
    @Test func aChatTurnsImageBecomesAnAnthropicImageBlock() throws {
        let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3])
        let request = ChatRequest(model: "claude-sonnet-4-5", messages: [
            ChatMessage(role: .system, content: "Be brief."),
            ChatMessage(role: .user, content: "What is this?", images: [ImagePart(mediaType: "image/png", data: png)]),
            ChatMessage(role: .user, content: "", images: [ImagePart(mediaType: "image/jpeg", data: Data([0xFF, 0xD8, 0xFF]))]),
        ])
        let body = ChatCompletionBody(chat: request)
        let openAI = try #require(try JSONSerialization.jsonObject(with: Data(body.body(model: "x"))) as? [String: Any])
        let parts = try #require((openAI["messages"] as? [[String: Any]])?[1]["content"] as? [[String: Any]])
        #expect(parts.map { $0["type"] as? String } == ["text", "image_url"])
        #expect((parts[1]["image_url"] as? [String: Any])?["url"] as? String == "data:image/png;base64," + png.base64EncodedString())

        let translated = try AnthropicTranslation.requestBody(body, model: "claude-sonnet-4-5")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(translated)) as? [String: Any])
        #expect(object["system"] as? String == "Be brief.")
        let messages = try #require(object["messages"] as? [[String: Any]])
        #expect(messages.count == 1, "two user turns in a row are one user message for Anthropic")
        let blocks = try #require(messages[0]["content"] as? [[String: Any]])
        #expect(blocks.map { $0["type"] as? String } == ["text", "image", "image"])
        let source = try #require(blocks[1]["source"] as? [String: Any])
        #expect(source["type"] as? String == "base64" && source["media_type"] as? String == "image/png")
        #expect(source["data"] as? String == png.base64EncodedString())
        #expect((blocks[2]["source"] as? [String: Any])?["media_type"] as? String == "image/jpeg")
    }
}
