import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import ParleyCore
import ParleyGateway

/// A provider for any server that speaks OpenAI's chat completions API: OpenAI, vLLM, llama.cpp server,
/// LM Studio, Ollama's `/v1`, or `parley mock-llm`.
public struct OpenAICompatibleProvider: ModelBackend {
    /// The API root including `/v1`, as the openai SDK's `OPENAI_BASE_URL`.
    public let baseURL: String
    private let apiKey: String?
    private let client: HTTPClient
    /// The limits of a call made outside the router, which sets its own per attempt (tests call it that way).
    let timeouts: UpstreamTimeouts

    public let kind: String

    public init(baseURL: String, apiKey: String?, client: HTTPClient, timeouts: UpstreamTimeouts, kind: String = "openai") {
        self.kind = kind
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.client = client
        self.timeouts = timeouts
    }

    /// The HTTP client for upstream calls: pooled, many connections per host, the connect timeout applied,
    /// and a refused connection reported at once (not retried until a timeout), so a dead upstream fails fast.
    /// It makes no spans of its own: the router's attempt span is the upstream call's (``Traces``), which saves
    /// a second span and a URL parse per call, and a no-op span per call while tracing is off.
    public static func makeHTTPClient(timeouts: UpstreamTimeouts) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.tracing.tracer = nil
        configuration.timeout = .init(connect: timeAmount(timeouts.connect))
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 1024
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func stream(_ request: ChatCompletionBody, model: String, limits: AttemptLimits) async throws -> UpstreamStream {
        var httpRequest = makeRequest(path: "/chat/completions", method: .POST)
        httpRequest.headers.add(name: "Accept", value: "text/event-stream")
        httpRequest.body = .bytes(request.body(model: model))
        let prepared = httpRequest
        return UpstreamStream { [client] emit in
            let watchdog = StreamWatchdog(firstToken: min(limits.firstToken, limits.remaining), idle: limits.idle)
            try await watchdog.run {
                let response = try await UpstreamHTTP.execute(client, prepared, limits: limits)
                let contentType = response.headers.first(name: "content-type")?.lowercased() ?? ""
                if contentType.hasPrefix("application/json") {
                    let reply = try await Self.readWholeCompletion(response)
                    watchdog.progress()
                    _ = await emit(try Self.chunks(fromCompletion: reply.body, model: model))
                    return
                }
                var translator = OpenAIPassThrough()
                try await UpstreamHTTP.relay(response, watchdog: watchdog, translator: &translator, emit: emit)
            }
        }
    }

    public func complete(_ request: ChatCompletionBody, model: String, limits: AttemptLimits) async throws -> UpstreamReply {
        var httpRequest = makeRequest(path: "/chat/completions", method: .POST)
        httpRequest.body = .bytes(request.body(model: model))
        return try await Self.readWholeCompletion(try await UpstreamHTTP.execute(client, httpRequest, limits: limits))
    }

    public func embed(_ request: EmbeddingsBody, model: String, limits: AttemptLimits) async throws -> UpstreamReply {
        var httpRequest = makeRequest(path: "/embeddings", method: .POST)
        httpRequest.body = .bytes(request.body(model: model))
        let response = try await UpstreamHTTP.execute(client, httpRequest, limits: limits)
        return UpstreamReply(body: try await UpstreamHTTP.collect(response, upTo: 64 << 20))
    }

    public func rerank(_ request: RerankRequest, model: String, limits: AttemptLimits) async throws -> UpstreamReply {
        var httpRequest = makeRequest(path: "/rerank", method: .POST)
        httpRequest.body = .bytes(request.body(model: model))
        let response = try await UpstreamHTTP.execute(client, httpRequest, limits: limits)
        return UpstreamReply(body: try await UpstreamHTTP.collect(response, upTo: 16 << 20))
    }

    /// Lists the upstream's models (`GET /models`).
    public func listModels(limits: AttemptLimits) async throws -> [String] {
        let response = try await UpstreamHTTP.execute(client, makeRequest(path: "/models", method: .GET), limits: limits)
        return try await UpstreamHTTP.modelIDs(response, format: "OpenAI")
    }

    private func makeRequest(path: String, method: HTTPMethod) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "parley")
        for header in Traces.outgoingHeaders() { request.headers.add(name: header.name, value: header.value) }
        if let apiKey, !apiKey.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        return request
    }

    private static func readWholeCompletion(_ response: HTTPClientResponse) async throws -> UpstreamReply {
        let bytes = try await UpstreamHTTP.collect(response, upTo: 16 << 20)
        guard let chunk = try? OpenAIChunk(parsing: bytes.readableBytesView) else {
            throw ProviderError.invalidResponse("the completion is not in OpenAI's format")
        }
        if chunk.hasError { throw ProviderError.invalidResponse(chunk.errorMessage ?? "unknown error") }
        return UpstreamReply(body: bytes, usage: chunk.usage)
    }

    /// A whole completion (from an upstream that answered a stream request without streaming) as chunks.
    static func chunks(fromCompletion body: ByteBuffer, model: String) throws -> [StreamChunk] {
        let chunk = try OpenAIChunk(parsing: body.readableBytesView)
        let text = chunk.contents.joined()
        let reason = chunk.finishReason ?? "stop"
        var delta = JSONObjectText()
        delta.field("role", "assistant")
        delta.field("content", text)
        let writer = OpenAIChunkWriter(model: model)
        let whole = StreamChunk(bytes: writer.chunk(delta: delta.closed, finishReason: reason),
                                events: (text.isEmpty ? [] : [.text(text)]) + [.finish(reason: reason)])
        return [whole] + (chunk.usage.map { [writer.usage($0)] } ?? [])
    }

    public static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// An OpenAI-compatible stream passed on as it came: each event checked (valid chunk, no error) and forwarded
/// byte for byte; `[DONE]` or a finish reason completes it.
struct OpenAIPassThrough: StreamTranslator {
    private(set) var isDone = false
    private var finished = false
    var isComplete: Bool { isDone || finished }

    mutating func translate(_ event: ServerSentEvent) throws -> [StreamChunk] {
        if event.dataBytes.elementsEqual("[DONE]".utf8) {
            isDone = true
            return []
        }
        let chunk = try StreamChunk(parsing: event.dataBytes)
        if chunk.finishReason != nil { finished = true }
        return [chunk]
    }
}
