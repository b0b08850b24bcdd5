/// What a finished streaming call reports besides its text.
public struct ChatCompletionInfo: Sendable, Equatable {
    public var usage: TokenUsage?
    public var finishReason: String?
    /// `hit` when the response cache served the answer, `miss` when it was stored on the way; nil when not cacheable.
    public var cache: String?
    public init(usage: TokenUsage? = nil, finishReason: String? = nil, cache: String? = nil) {
        self.usage = usage
        self.finishReason = finishReason
        self.cache = cache
    }
}

/// A piece of a streamed answer: its text, or its reasoning (what a reasoning model streams before or beside the
/// answer: `reasoning_content` of OpenAI-compatible servers, Anthropic's thinking blocks). Reasoning is kept
/// apart from the answer and never sent back upstream as part of it.
public enum AnswerDelta: Sendable, Equatable {
    case text(String)
    case reasoning(String)
}

/// How the chat domain asks for an answer: the port its generation jobs stream through. Parley has one
/// implementation, the router (with the response cache) in `ParleyProviders`, which reaches every upstream
/// through its one backend protocol, `ModelBackend`; backends do not implement this.
public protocol ChatProvider: Sendable {
    /// Streams one completion, calling `onDelta` with each piece of text or reasoning in order, and returns once
    /// the upstream has finished. Throws ``ProviderError`` for upstream failures; honours task cancellation.
    func streamChat(_ request: ChatRequest, onDelta: @escaping @Sendable (AnswerDelta) -> Void) async throws
        -> ChatCompletionInfo
}
