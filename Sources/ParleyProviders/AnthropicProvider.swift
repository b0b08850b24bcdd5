import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import ParleyCore

/// Anthropic's Messages API (`POST /v1/messages`) behind OpenAI's shapes: see ``AnthropicTranslation``.
public struct AnthropicProvider: ModelBackend {
    public var kind: String { "anthropic" }
    /// The API root without `/v1`, e.g. `https://api.anthropic.com`.
    public let baseURL: String
    private let apiKey: String?
    private let client: HTTPClient
    static let version = "2023-06-01"

    public init(baseURL: String, apiKey: String?, client: HTTPClient) {
        var root = baseURL
        while root.hasSuffix("/") { root.removeLast() }
        if root.hasSuffix("/v1") { root.removeLast(3) }
        self.baseURL = root
        self.apiKey = apiKey
        self.client = client
    }

    public func complete(_ request: ChatCompletionBody, model: String, limits: AttemptLimits) async throws -> UpstreamReply {
        var httpRequest = makeRequest(path: "/v1/messages", method: .POST)
        httpRequest.body = .bytes(try AnthropicTranslation.requestBody(request, model: model))
        let response = try await execute(httpRequest, limits: limits)
        let bytes: ByteBuffer
        do {
            bytes = try await response.body.collect(upTo: 16 << 20)
        } catch {
            throw ProviderError.streamCut(OpenAICompatibleProvider.describe(error))
        }
        return try AnthropicTranslation.completion(bytes, model: model)
    }

    public func stream(_ request: ChatCompletionBody, model: String, limits: AttemptLimits) async throws -> UpstreamStream {
        var httpRequest = makeRequest(path: "/v1/messages", method: .POST)
        httpRequest.headers.add(name: "Accept", value: "text/event-stream")
        httpRequest.body = .bytes(try AnthropicTranslation.requestBody(request, model: model))
        let prepared = httpRequest
        let includeUsage = request.includeUsage
        return UpstreamStream { [self] emit in
            let watchdog = StreamWatchdog(firstToken: min(limits.firstToken, limits.remaining), idle: limits.idle)
            try await watchdog.run {
                let response = try await execute(prepared, limits: limits)
                var translator = AnthropicStreamTranslator(model: model, includeUsage: includeUsage)
                try await Self.read(response, watchdog: watchdog, translator: &translator, emit: emit)
            }
        }
    }

    public func embed(_ request: EmbeddingsBody, model: String, limits: AttemptLimits) async throws -> UpstreamReply {
        throw InvalidGatewayRequest("'\(request.model)' is served by Anthropic, which has no embeddings API", param: "model")
    }

    public func listModels(limits: AttemptLimits) async throws -> [String] {
        let response = try await execute(makeRequest(path: "/v1/models?limit=1000", method: .GET), limits: limits)
        struct ModelList: Decodable {
            struct Model: Decodable { var id: String }
            var data: [Model]
        }
        let bytes = try await response.body.collect(upTo: 4 << 20)
        do {
            return try JSONDecoder().decode(ModelList.self, from: bytes).data.map(\.id)
        } catch {
            throw ProviderError.invalidResponse("the model list is not in Anthropic's format")
        }
    }

    private static func read(_ response: HTTPClientResponse, watchdog: StreamWatchdog,
                             translator: inout AnthropicStreamTranslator,
                             emit: @Sendable ([ByteBuffer]) async -> Bool) async throws {
        var decoder = SSEDecoder()
        do {
            for try await buffer in response.body {
                let events = try decoder.feed(buffer.readableBytesView)
                if events.isEmpty { continue }
                watchdog.progress()
                var batch: [ByteBuffer] = []
                do {
                    for event in events where !event.data.isEmpty {
                        batch += try translator.translate(event.data)
                    }
                } catch {
                    // What arrived before the error is the client's.
                    if !batch.isEmpty { _ = await emit(batch) }
                    throw error
                }
                if !batch.isEmpty, await !emit(batch) { throw CancellationError() }
                if translator.finished { return }
            }
        } catch let error as ProviderError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as SSEDecoder.LineTooLong {
            throw ProviderError.invalidResponse(error.description)
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw ProviderError.streamCut(OpenAICompatibleProvider.describe(error))
        }
        throw ProviderError.streamCut("the connection closed before the answer was finished")
    }

    private func execute(_ request: HTTPClientRequest, limits: AttemptLimits) async throws -> HTTPClientResponse {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: OpenAICompatibleProvider.nioDeadline(limits.deadline))
        } catch {
            throw OpenAICompatibleProvider.connectError(error)
        }
        guard (200..<300).contains(Int(response.status.code)) else {
            throw await OpenAICompatibleProvider.httpError(response)
        }
        return response
    }

    private func makeRequest(path: String, method: HTTPMethod) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "anthropic-version", value: Self.version)
        request.headers.add(name: "User-Agent", value: "parley")
        if let apiKey, !apiKey.isEmpty { request.headers.add(name: "x-api-key", value: apiKey) }
        return request
    }
}
