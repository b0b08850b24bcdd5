import AsyncHTTPClient
import Logging
import ParleyCore
import ParleyGateway
import ParleyMockLLM
import ParleyTestSupport
import Synchronization
import Testing
@testable import ParleyProviders

/// The OpenAI-compatible provider against the real mock server over loopback.
@Suite struct OpenAICompatibleProviderTests {
    /// Generous limits, so a loaded machine never turns a test into a timeout.
    static let timeouts = UpstreamTimeouts(connect: .seconds(5), firstToken: .seconds(20), idle: .seconds(20),
                                           total: .seconds(60))

    /// Tight limits only where a timeout is what the test is about.
    static func timeouts(forFault fault: String) -> UpstreamTimeouts {
        var timeouts = Self.timeouts
        if fault == "slow" { timeouts.firstToken = .milliseconds(700) }
        if fault == "hang" { timeouts.idle = .milliseconds(700) }
        return timeouts
    }

    /// Runs `body` with a provider pointed at a fresh mock.
    func withProvider(apiKey: String? = nil, mockKey: String? = nil, timeouts: UpstreamTimeouts = Self.timeouts,
                      _ body: (OpenAICompatibleProvider, MockLLMServer) async throws -> Void) async throws {
        var options = MockLLMServer.Options()
        options.port = 0
        options.apiKey = mockKey
        let mock = MockLLMServer(options: options)
        let running = try await mock.start()
        let client = OpenAICompatibleProvider.makeHTTPClient(timeouts: Self.timeouts)
        let provider = OpenAICompatibleProvider(baseURL: "http://127.0.0.1:\(running.port)/v1", apiKey: apiKey,
                                                client: client, timeouts: timeouts)
        do {
            try await body(provider, mock)
        } catch {
            try await client.shutdown()
            try await running.stop()
            throw error
        }
        try await client.shutdown()
        try await running.stop()
    }

    func request(_ prompt: String) -> ChatRequest {
        ChatRequest(model: "mock-1", messages: [ChatMessage(role: .system, content: "sys"), ChatMessage(role: .user, content: prompt)])
    }

    /// Streams and returns the text received and the outcome.
    func run(_ provider: OpenAICompatibleProvider, _ prompt: String) async -> (String, Result<ChatCompletionInfo, any Error>) {
        let text = Mutex("")
        do {
            let info = try await provider.streamChat(request(prompt)) { delta in text.withLock { $0 += delta } }
            return (text.withLock { $0 }, .success(info))
        } catch {
            return (text.withLock { $0 }, .failure(error))
        }
    }

    @Test func streamsTokensInOrderWithUsage() async throws {
        try await withProvider { provider, _ in
            let deltas = Mutex<[String]>([])
            let info = try await provider.streamChat(request("hello mock:tokens=12")) { delta in deltas.withLock { $0.append(delta) } }
            #expect(deltas.withLock { $0 } == MockScript.replyTokens(count: 12))
            #expect(info.finishReason == "stop")
            #expect(info.usage?.completionTokens == 12)
            #expect((info.usage?.promptTokens ?? 0) > 0)
        }
    }

    @Test func sendsTheApiKey() async throws {
        try await withProvider(apiKey: "sk-right", mockKey: "sk-right") { provider, _ in
            let (text, result) = await run(provider, "hi mock:tokens=3")
            #expect(text == MockScript.replyTokens(count: 3).joined())
            if case .failure(let error) = result { Issue.record("unexpected failure: \(error)") }
            let models = try await provider.listModels(limits: AttemptLimits(timeout: .seconds(20), firstToken: .seconds(20), idle: .seconds(20)))
            #expect(models == ["mock-1", "mock-2"])
        }
        try await withProvider(apiKey: "sk-wrong", mockKey: "sk-right") { provider, _ in
            let (_, result) = await run(provider, "hi")
            guard case .failure(ProviderError.http(401, let message, _)) = result else {
                Issue.record("expected a 401, got \(result)")
                return
            }
            #expect(message.contains("API key"))
        }
    }

    @Test(arguments: [
        ("500", "upstream_http_error"), ("400", "upstream_http_error"), ("429", "upstream_rate_limited"),
        ("cut", "upstream_stream_cut"), ("garbage", "upstream_invalid_response"),
        ("slow", "upstream_timeout"), ("hang", "upstream_timeout"),
    ])
    func faultsBecomeProviderErrors(fault: String, kind: String) async throws {
        try await withProvider(timeouts: Self.timeouts(forFault: fault)) { provider, _ in
            let started = ContinuousClock.now
            let (_, result) = await run(provider, "hi mock:fault=\(fault) mock:retry_after=7 mock:tokens=10")
            // The short limit under test decides, not the 20 s one: a silent stream is not waited out to the end.
            #expect(ContinuousClock.now - started < .seconds(15), "fault \(fault) ended by the right limit")
            guard case .failure(let error as ProviderError) = result else {
                Issue.record("fault \(fault): expected a provider error, got \(result)")
                return
            }
            #expect(error.kind == kind, "fault \(fault): \(error)")
            switch fault {
            case "429": #expect(error == .http(status: 429, message: "mock: rate limit reached", retryAfterSeconds: 7))
            case "500": #expect(error.description.contains("HTTP 500") && error.description.contains("injected server error"))
            case "slow": #expect(error == .firstTokenTimeout(seconds: 0.7))
            case "hang": #expect(error == .idleTimeout(seconds: 0.7))
            default: break
            }
        }
    }

    @Test func cutStreamKeepsWhatArrived() async throws {
        try await withProvider { provider, _ in
            let (text, result) = await run(provider, "hi mock:fault=cut mock:tokens=10 mock:delay_ms=5")
            #expect(text == MockScript.replyTokens(count: 10).prefix(5).joined())
            #expect(throws: ProviderError.self) { try result.get() }
        }
    }

    @Test func unreachableUpstreamIsAConnectError() async throws {
        let client = OpenAICompatibleProvider.makeHTTPClient(timeouts: Self.timeouts)
        // Port 1 on loopback: nothing listens there.
        let provider = OpenAICompatibleProvider(baseURL: "http://127.0.0.1:1/v1", apiKey: nil, client: client,
                                                timeouts: Self.timeouts)
        let (_, result) = await run(provider, "hi")
        guard case .failure(let error as ProviderError) = result, case .connect = error else {
            Issue.record("expected a connect error, got \(result)")
            try await client.shutdown()
            return
        }
        try await client.shutdown()
    }

    @Test func cancellationStopsTheCallPromptly() async throws {
        try await withProvider { provider, _ in
            let received = Mutex("")
            let task = Task {
                try await provider.streamChat(request("hi mock:tokens=1000 mock:delay_ms=50")) { delta in
                    received.withLock { $0 += delta }
                }
            }
            let deadline = ContinuousClock.now + .seconds(20)
            while received.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(!received.withLock { $0.isEmpty }, "tokens were arriving")
            let cancelledAt = ContinuousClock.now
            task.cancel()
            let result = await task.result
            #expect(throws: CancellationError.self) { try result.get() }
            #expect(ContinuousClock.now - cancelledAt < .seconds(10), "the call ended long before the 50 s reply would")
        }
    }
}

@Suite struct MockScriptTests {
    @Test func directivesOverrideDefaults() {
        var script = MockScript(tokens: 20)
        script.apply(directivesIn: "please mock:tokens=5 mock:fault=cut mock:delay_ms=3 mock:bogus=1 mock:tokens=x")
        #expect(script.tokens == 5 && script.fault == .cut && script.tokenDelayMs == 3)
    }

    @Test func repliesAreDeterministic() {
        #expect(MockScript.replyTokens(count: 3) == ["Lorem", " ipsum", " dolor"])
        #expect(MockScript.replyTokens(count: 3, echoing: "say mock:tokens=3 hi") == ["say", " hi", " dolor"])
    }
}

@Suite struct ModelCatalogTests {
    @Test func concurrentCallersShareOneModelListRequest() async throws {
        var options = MockLLMServer.Options()
        options.port = 0
        let mock = MockLLMServer(options: options)
        let running = try await mock.start()
        let client = OpenAICompatibleProvider.makeHTTPClient(timeouts: UpstreamTimeouts())
        var settings = RouterSettings()
        settings.aliases = ["gpt-4o": "mock-2"]
        let directory = ModelRouter(
            upstreams: [UpstreamConfig(name: "mock", baseURL: "http://127.0.0.1:\(running.port)/v1")], settings: settings,
            defaultModel: nil, client: client, timeouts: UpstreamTimeouts(), logger: Logger(label: "test"))
        let lists = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<20 { group.addTask { await directory.models().map(\.id) } }
            var all: [[String]] = []
            for await list in group { all.append(list) }
            return all
        }
        #expect(lists.allSatisfy { $0 == ["mock-1", "mock-2", "gpt-4o"] }, "aliases are listed after the models")
        #expect(mock.counters.snapshot["models"] == 1, "one request upstream, then the cached list")
        let resolved = try await directory.resolve("mock-2")
        #expect(resolved.id == "mock-2")
        #expect(try await directory.deployments(for: "gpt-4o").map(\.id) == ["mock/mock-2"])
        await #expect(throws: ParleyError.self) { try await directory.resolve("nope") }
        #expect(await directory.defaultModel() == "mock-1")
        try await client.shutdown()
        try await running.stop()
    }
}

extension OpenAICompatibleProvider {
    /// The chat path's reading of a stream (``ChatStreamReader``), with this provider's own timeouts.
    func streamChat(_ request: ChatRequest, onDelta: @escaping @Sendable (String) -> Void) async throws -> ChatCompletionInfo {
        try await streamChat(request, pieces: { piece in if case .text(let text) = piece { onDelta(text) } })
    }

    /// The same, with reasoning as well as text.
    func streamChat(_ request: ChatRequest, pieces onDelta: @escaping @Sendable (AnswerDelta) -> Void) async throws -> ChatCompletionInfo {
        let limits = AttemptLimits(timeout: timeouts.total, firstToken: timeouts.firstToken, idle: timeouts.idle)
        return try await ChatStreamReader.read(try await stream(ChatCompletionBody(chat: request), model: request.model, limits: limits),
                                               onDelta: onDelta)
    }
}
