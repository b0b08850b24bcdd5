import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import ParleyCore
import ParleyGateway

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
        let response = try await UpstreamHTTP.execute(client, httpRequest, limits: limits)
        return try AnthropicTranslation.completion(try await UpstreamHTTP.collect(response, upTo: 16 << 20), model: model)
    }

    public func stream(_ request: ChatCompletionBody, model: String, limits: AttemptLimits) async throws -> UpstreamStream {
        var httpRequest = makeRequest(path: "/v1/messages", method: .POST)
        httpRequest.headers.add(name: "Accept", value: "text/event-stream")
        httpRequest.body = .bytes(try AnthropicTranslation.requestBody(request, model: model))
        let prepared = httpRequest
        let includeUsage = request.includeUsage
        return UpstreamStream { [client] emit in
            let watchdog = StreamWatchdog(firstToken: min(limits.firstToken, limits.remaining), idle: limits.idle)
            try await watchdog.run {
                let response = try await UpstreamHTTP.execute(client, prepared, limits: limits)
                var translator = AnthropicStreamTranslator(model: model, includeUsage: includeUsage)
                try await UpstreamHTTP.relay(response, watchdog: watchdog, translator: &translator, emit: emit)
            }
        }
    }

    public func embed(_ request: EmbeddingsBody, model: String, limits: AttemptLimits) async throws -> UpstreamReply {
        throw InvalidGatewayRequest("'\(request.model)' is served by Anthropic, which has no embeddings API", param: "model")
    }

    public func listModels(limits: AttemptLimits) async throws -> [String] {
        let response = try await UpstreamHTTP.execute(client, makeRequest(path: "/v1/models?limit=1000", method: .GET),
                                                      limits: limits)
        return try await UpstreamHTTP.modelIDs(response, format: "Anthropic")
    }

    private func makeRequest(path: String, method: HTTPMethod) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "anthropic-version", value: Self.version)
        request.headers.add(name: "User-Agent", value: "parley")
        for header in Traces.outgoingHeaders() { request.headers.add(name: header.name, value: header.value) }
        if let apiKey, !apiKey.isEmpty { request.headers.add(name: "x-api-key", value: apiKey) }
        return request
    }
}
