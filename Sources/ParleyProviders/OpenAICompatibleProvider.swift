import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import ParleyCore

/// A provider for any server that speaks OpenAI's chat completions API: OpenAI, vLLM, llama.cpp server,
/// LM Studio, Ollama's `/v1`, or `parley mock-llm`.
public struct OpenAICompatibleProvider: ChatProvider, ModelBackend {
    /// The API root including `/v1`, as the openai SDK's `OPENAI_BASE_URL`.
    public let baseURL: String
    private let apiKey: String?
    private let client: HTTPClient
    private let timeouts: UpstreamTimeouts
    /// Largest error body read from an upstream.
    static let maxErrorBody = 64 * 1024

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
    public static func makeHTTPClient(timeouts: UpstreamTimeouts) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: timeAmount(timeouts.connect))
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 1024
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Streams through ``stream(_:model:limits:)`` with this provider's own timeouts (the router's path sets
    /// its own limits per attempt).
    public func streamChat(_ request: ChatRequest, onDelta: @escaping @Sendable (String) -> Void) async throws
        -> ChatCompletionInfo
    {
        let body = try ChatCompletionBody(parsing: Array(OpenAIWire.streamingRequestBody(request).utf8))
        let limits = AttemptLimits(timeout: timeouts.total, firstToken: timeouts.firstToken, idle: timeouts.idle)
        return try await ChatStreamReader.read(try await stream(body, model: request.model, limits: limits), onDelta: onDelta)
    }

    public func stream(_ request: ChatCompletionBody, model: String, limits: AttemptLimits) async throws -> UpstreamStream {
        var httpRequest = makeRequest(path: "/chat/completions", method: .POST)
        httpRequest.headers.add(name: "Accept", value: "text/event-stream")
        httpRequest.body = .bytes(request.body(model: model))
        let prepared = httpRequest
        return UpstreamStream { [client] emit in
            let watchdog = StreamWatchdog(firstToken: min(limits.firstToken, limits.remaining), idle: limits.idle)
            try await watchdog.run {
                let response: HTTPClientResponse
                do {
                    response = try await client.execute(prepared, deadline: Self.nioDeadline(limits.deadline))
                } catch {
                    throw Self.connectError(error)
                }
                guard (200..<300).contains(Int(response.status.code)) else {
                    throw await Self.httpError(response)
                }
                let contentType = response.headers.first(name: "content-type")?.lowercased() ?? ""
                if contentType.hasPrefix("application/json") {
                    let reply = try await Self.readWholeCompletion(response)
                    watchdog.progress()
                    _ = await emit(try Self.chunks(fromCompletion: reply.body))
                    return
                }
                try await Self.readStream(response, watchdog: watchdog, emit: emit)
            }
        }
    }

    public func complete(_ request: ChatCompletionBody, model: String, limits: AttemptLimits) async throws -> UpstreamReply {
        var httpRequest = makeRequest(path: "/chat/completions", method: .POST)
        httpRequest.body = .bytes(request.body(model: model))
        let response = try await execute(httpRequest, limits: limits)
        return try await Self.readWholeCompletion(response)
    }

    public func embed(_ request: EmbeddingsBody, model: String, limits: AttemptLimits) async throws -> UpstreamReply {
        var httpRequest = makeRequest(path: "/embeddings", method: .POST)
        httpRequest.body = .bytes(request.body(model: model))
        let response = try await execute(httpRequest, limits: limits)
        do {
            return UpstreamReply(body: try await response.body.collect(upTo: 64 << 20))
        } catch {
            throw ProviderError.streamCut(Self.describe(error))
        }
    }

    /// Sends `request` and returns a 2xx response; anything else is a ``ProviderError``.
    private func execute(_ request: HTTPClientRequest, limits: AttemptLimits) async throws -> HTTPClientResponse {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: Self.nioDeadline(limits.deadline))
        } catch {
            throw Self.connectError(error)
        }
        guard (200..<300).contains(Int(response.status.code)) else { throw await Self.httpError(response) }
        return response
    }

    /// Lists the upstream's models (`GET /models`).
    public func listModels(limits: AttemptLimits) async throws -> [String] {
        let response = try await execute(makeRequest(path: "/models", method: .GET), limits: limits)
        struct ModelList: Decodable {
            struct Model: Decodable { var id: String }
            var data: [Model]
        }
        let bytes = try await response.body.collect(upTo: 4 << 20)
        do {
            return try JSONDecoder().decode(ModelList.self, from: bytes).data.map(\.id)
        } catch {
            throw ProviderError.invalidResponse("the model list is not in OpenAI's format")
        }
    }

    private func makeRequest(path: String, method: HTTPMethod) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "parley")
        if let apiKey, !apiKey.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        return request
    }

    private static func readStream(_ response: HTTPClientResponse, watchdog: StreamWatchdog,
                                   emit: @Sendable ([ByteBuffer]) async -> Bool) async throws {
        var decoder = SSEDecoder()
        var finished = false
        var sawDone = false
        do {
            for try await buffer in response.body {
                let events = try decoder.feed(buffer.readableBytesView)
                if events.isEmpty { continue }
                watchdog.progress()
                var batch: [ByteBuffer] = []
                batch.reserveCapacity(events.count)
                do {
                    for event in events {
                        if event.data == "[DONE]" {
                            sawDone = true
                            break
                        }
                        let chunk: OpenAIChunk
                        do {
                            chunk = try OpenAIChunk(parsing: event.data.utf8)
                        } catch {
                            throw ProviderError.invalidResponse("a stream event is not valid JSON: \(event.data.prefix(200))")
                        }
                        if chunk.hasError {
                            throw ProviderError.streamCut("the upstream reported an error: \(chunk.errorMessage ?? "unknown")")
                        }
                        if chunk.finishReason != nil { finished = true }
                        batch.append(ByteBuffer(string: event.data))
                    }
                } catch {
                    // What arrived before the bad event is the client's.
                    if !batch.isEmpty { _ = await emit(batch) }
                    throw error
                }
                if !batch.isEmpty, await !emit(batch) { throw CancellationError() }
                if sawDone { break }
            }
        } catch let error as ProviderError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as SSEDecoder.LineTooLong {
            throw ProviderError.invalidResponse(error.description)
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw ProviderError.streamCut(describe(error))
        }
        if !sawDone && !finished {
            throw ProviderError.streamCut("the connection closed before the answer was finished")
        }
    }

    private static func readWholeCompletion(_ response: HTTPClientResponse) async throws -> UpstreamReply {
        let bytes: ByteBuffer
        do {
            bytes = try await response.body.collect(upTo: 16 << 20)
        } catch {
            throw ProviderError.streamCut(describe(error))
        }
        guard let chunk = try? OpenAIChunk(parsing: bytes.readableBytesView) else {
            throw ProviderError.invalidResponse("the completion is not in OpenAI's format")
        }
        if chunk.hasError { throw ProviderError.invalidResponse(chunk.errorMessage ?? "unknown error") }
        return UpstreamReply(body: bytes, usage: chunk.usage)
    }

    /// A whole completion (from an upstream that answered a stream request without streaming) as chunks.
    static func chunks(fromCompletion body: ByteBuffer) throws -> [ByteBuffer] {
        let chunk = try OpenAIChunk(parsing: body.readableBytesView)
        var delta = JSONObjectText()
        delta.field("role", "assistant")
        delta.field("content", chunk.contents.joined())
        var result = [ByteBuffer(string: "{\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":\(delta.closed),\"finish_reason\":\(JSONText.quote(chunk.finishReason ?? "stop"))}]}")]
        if let usage = chunk.usage {
            result.append(ByteBuffer(string: "{\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":\(usage.promptTokens),\"completion_tokens\":\(usage.completionTokens),\"total_tokens\":\(usage.totalTokens)}}"))
        }
        return result
    }

    static func httpError(_ response: HTTPClientResponse) async -> ProviderError {
        let status = Int(response.status.code)
        let retryAfter = response.headers.first(name: "retry-after").flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        var message = response.status.reasonPhrase
        if let bytes = try? await response.body.collect(upTo: maxErrorBody) {
            if let envelope = try? JSONDecoder().decode(OpenAIWire.ErrorEnvelope.self, from: bytes),
               let text = envelope.message, !text.isEmpty {
                message = text
            } else if bytes.readableBytes > 0 {
                message = String(buffer: bytes).trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        return .http(status: status, message: String(message.prefix(500)), retryAfterSeconds: retryAfter)
    }

    static func connectError(_ error: any Error) -> any Error {
        if error is CancellationError || Task.isCancelled { return CancellationError() }
        return ProviderError.connect(describe(error))
    }

    static func describe(_ error: any Error) -> String {
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .remoteConnectionClosed: return "the connection was closed by the upstream"
            case .readTimeout: return "read timed out"
            case .connectTimeout: return "connect timed out"
            case .deadlineExceeded: return "the request took longer than the total timeout"
            default: return String(describing: clientError)
            }
        }
        return String(describing: error)
    }

    static func nioDeadline(_ instant: ContinuousClock.Instant) -> NIODeadline {
        .now() + timeAmount(max(.zero, instant - .now))
    }

    public static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
