import Foundation

/// One message as sent to a model.
public struct ChatMessage: Sendable, Equatable, Codable {
    public var role: Role
    public var content: String
    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }
}

/// A chat completion request in provider-neutral form.
public struct ChatRequest: Sendable, Equatable {
    /// The model name as the upstream knows it.
    public var model: String
    public var messages: [ChatMessage]
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var seed: Int?
    public var stop: [String]?
    public var reasoningEffort: String?
    /// Whose answers a cached one may be served to (the user's id): never sent upstream.
    public var cacheScope: String?
    public init(model: String, messages: [ChatMessage], maxTokens: Int? = nil, temperature: Double? = nil) {
        self.model = model
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
    }
}
