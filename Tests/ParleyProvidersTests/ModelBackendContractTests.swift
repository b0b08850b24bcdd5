import AsyncHTTPClient
import Foundation
import NIOCore
import ParleyCore
import ParleyGateway
import ParleyMockLLM
import ParleyTestSupport
import Synchronization
import Testing
@testable import ParleyProviders

/// What every ``ModelBackend`` must do, run on each: the OpenAI-compatible backend against the mock model
/// server, Anthropic against its recorded event streams replayed over HTTP, and the demo model. A new backend
/// passes this suite or is not done.
@Suite struct ModelBackendContractTests {
    enum Kind: String, CaseIterable { case openAICompatible, anthropic, demo }

    static let limits = AttemptLimits(timeout: .seconds(30), firstToken: .seconds(20), idle: .seconds(20))

    /// Runs `test` with a backend of `kind` whose answer to a streamed request is known to have text, a finish
    /// reason and usage; `prepare` queues that answer where the backend needs one queued.
    func withBackend(_ kind: Kind, _ test: (any ModelBackend, _ prepare: () throws -> Void) async throws -> Void) async throws {
        let client = OpenAICompatibleProvider.makeHTTPClient(timeouts: UpstreamTimeouts())
        var stop: [() async throws -> Void] = [{ try await client.shutdown() }]
        do {
            switch kind {
            case .openAICompatible:
                var options = MockLLMServer.Options()
                options.port = 0
                let mock = try await MockLLMServer(options: options).start()
                stop.insert({ try await mock.stop() }, at: 0)
                try await test(OpenAICompatibleProvider(baseURL: "http://127.0.0.1:\(mock.port)/v1", apiKey: nil, client: client,
                                                        timeouts: UpstreamTimeouts()), {})
            case .anthropic:
                let fixtures = FixtureServer()
                let server = try await fixtures.start()
                stop.insert({ try await server.stop() }, at: 0)
                let provider = AnthropicProvider(baseURL: "http://127.0.0.1:\(server.port)/v1/", apiKey: "sk-ant-test", client: client)
                try await test(provider, {
                    fixtures.enqueue(.init(contentType: "text/event-stream", body: try AnthropicProviderTests.fixture("stream-text.sse")),
                                     on: "/v1/messages")
                })
            case .demo:
                try await test(DemoProvider(wordDelay: .milliseconds(1)), {})
            }
        } catch {
            for step in stop { try? await step() }
            throw error
        }
        for step in stop { try await step() }
    }

    static let request = try! ChatCompletionBody(parsing: Array(
        #"{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello"}]}"#.utf8))

    @Test(arguments: Kind.allCases)
    func aStreamSaysInItsEventsWhatItsBytesSay(kind: Kind) async throws {
        try await withBackend(kind) { backend, prepare in
            try prepare()
            let stream = try await backend.stream(Self.request, model: "m", limits: Self.limits)
            var text = ""
            var finish: String?
            var usage: TokenUsage?
            var chunks = 0
            while let batch = try await stream.next() {
                for chunk in batch {
                    chunks += 1
                    // The bytes are what /v1 forwards, the events what the chat path reads: they must agree.
                    #expect(try StreamChunk(parsing: chunk.bytes).events == chunk.events, "\(kind): \(String(buffer: chunk.bytes))")
                    for event in chunk.events {
                        switch event {
                        case .text(let piece): text += piece
                        case .finish(let reason): finish = reason
                        case .usage(let counts): usage = counts
                        case .toolCall, .reasoning: break
                        }
                    }
                }
            }
            #expect(chunks > 1, "\(kind)")
            #expect(!text.isEmpty, "\(kind)")
            #expect(finish != nil, "\(kind): a stream ends with a finish reason")
            #expect(usage != nil, "\(kind): include_usage gets a usage chunk")
        }
    }

    @Test(arguments: Kind.allCases)
    func theChatPathReadsTheSameTextFromTheEvents(kind: Kind) async throws {
        try await withBackend(kind) { backend, prepare in
            try prepare()
            let stream = try await backend.stream(Self.request, model: "m", limits: Self.limits)
            let pieces = PiecesBox()
            let info = try await ChatStreamReader.read(stream) { piece in if case .text(let text) = piece { pieces.append(text) } }
            #expect(!pieces.joined.isEmpty, "\(kind)")
            #expect(info.finishReason != nil, "\(kind)")
            #expect(info.usage != nil, "\(kind)")
        }
    }

    @Test(arguments: Kind.allCases)
    func aCancelledStreamHandsOverNothingMore(kind: Kind) async throws {
        try await withBackend(kind) { backend, prepare in
            try prepare()
            let stream = try await backend.stream(Self.request, model: "m", limits: Self.limits)
            _ = try await stream.next()
            stream.cancel()
            await #expect(throws: CancellationError.self, "\(kind): what was queued is dropped and the reader stops") {
                try await stream.next()
            }
        }
    }
}

/// Text pieces collected from a `@Sendable` callback.
final class PiecesBox: Sendable {
    private let pieces = Mutex<[String]>([])
    func append(_ piece: String) { pieces.withLock { $0.append(piece) } }
    var joined: String { pieces.withLock { $0.joined() } }
}
