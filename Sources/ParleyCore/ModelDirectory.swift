/// A model a user can pick.
public struct ModelInfo: Sendable, Equatable {
    public var id: String
    /// The configured upstream that serves it.
    public var upstream: String
    /// An embedding model that cannot chat (Parley's built-in one): listed on `/v1/models`, not offered for chats.
    public var embeddingsOnly: Bool
    public init(id: String, upstream: String, embeddingsOnly: Bool = false) {
        self.id = id
        self.upstream = upstream
        self.embeddingsOnly = embeddingsOnly
    }
}

/// A model resolved to the provider that serves it.
public struct ResolvedModel: Sendable {
    public var id: String
    public var upstreamModel: String
    public var provider: any ChatProvider
    public init(id: String, upstreamModel: String, provider: any ChatProvider) {
        self.id = id
        self.upstreamModel = upstreamModel
        self.provider = provider
    }
}

/// Knows which models exist and which provider serves each.
public protocol ModelDirectory: Sendable {
    func models() async -> [ModelInfo]
    /// The model used when neither the message nor the conversation names one.
    func defaultModel() async -> String?
    /// Throws ``ParleyError/invalid(_:)`` for a model no upstream serves.
    func resolve(_ model: String) async throws -> ResolvedModel
}
