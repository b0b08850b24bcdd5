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

/// How the chat domain asks for an answer: the port its generation jobs stream through. Parley has one
/// implementation, the router (with the response cache) in `ParleyProviders`, which reaches every upstream
/// through its one backend protocol, `ModelBackend`; backends do not implement this.
public protocol ChatProvider: Sendable {
    /// Streams one completion, calling `onDelta` with each piece of text in order, and returns once the
    /// upstream has finished. Throws ``ProviderError`` for upstream failures; honours task cancellation.
    func streamChat(_ request: ChatRequest, onDelta: @escaping @Sendable (String) -> Void) async throws
        -> ChatCompletionInfo
}
