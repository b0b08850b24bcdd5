import Foundation
import NIOCore
import ParleyCore
import ParleyGateway

/// The demo model behind the router and the `/v1` API, so a fresh install answers there too.
extension DemoProvider: ModelBackend {
    public var kind: String { "demo" }

    public func complete(_ request: ChatCompletionBody, model: String, limits: AttemptLimits) async throws -> UpstreamReply {
        let chat = Self.chatRequest(request, model: model)
        let text = Self.reply(to: chat.messages.last(where: { $0.role == .user })?.content ?? "")
        let usage = TokenUsage(promptTokens: chat.messages.reduce(0) { $0 + TokenEstimator.tokens(in: $1) },
                               completionTokens: text.split(separator: " ").count)
        return UpstreamReply(body: OpenAIChunkWriter(model: model).completion(content: text, finishReason: "stop", usage: usage),
                             usage: usage)
    }

    public func stream(_ request: ChatCompletionBody, model: String, limits: AttemptLimits) async throws -> UpstreamStream {
        let chat = Self.chatRequest(request, model: model)
        let includeUsage = request.includeUsage
        let prompt = chat.messages.last(where: { $0.role == .user })?.content ?? ""
        let promptTokens = chat.messages.reduce(0) { $0 + TokenEstimator.tokens(in: $1) }
        return UpstreamStream { [wordDelay] emit in
            let writer = OpenAIChunkWriter(model: model)
            let pieces = Self.pieces(of: Self.reply(to: prompt))
            for (index, piece) in pieces.enumerated() {
                try await Task.sleep(for: wordDelay)
                guard await emit([writer.text(piece, withRole: index == 0)]) else { return }
            }
            var last = [writer.finish("stop")]
            if includeUsage { last.append(writer.usage(TokenUsage(promptTokens: promptTokens, completionTokens: pieces.count))) }
            _ = await emit(last)
        }
    }

    public func embed(_ request: EmbeddingsBody, model: String, limits: AttemptLimits) async throws -> UpstreamReply {
        throw InvalidGatewayRequest("the demo model has no embeddings; configure an upstream that does", param: "model")
    }

    public func listModels(limits: AttemptLimits) async throws -> [String] { [Self.modelName] }

    /// The messages of an OpenAI request body, as far as the demo reads them.
    static func chatRequest(_ request: ChatCompletionBody, model: String) -> ChatRequest {
        let object = (try? JSONSerialization.jsonObject(with: Data(request.bytes))) as? [String: Any]
        let messages = (object?["messages"] as? [[String: Any]] ?? []).compactMap { message -> ChatMessage? in
            guard let role = (message["role"] as? String).flatMap(Role.init(rawValue:)) else { return nil }
            return ChatMessage(role: role, content: message["content"] as? String ?? "")
        }
        return ChatRequest(model: model, messages: messages)
    }
}
