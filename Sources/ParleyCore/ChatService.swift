import Foundation

/// Limits applied to chat turns.
public struct ChatLimits: Sendable {
    /// Longest accepted user message, in characters.
    public var maxMessageCharacters: Int
    /// Token budget of the context sent upstream (system prompt + history).
    public var contextTokenBudget: Int
    /// `max_tokens` sent upstream, when set.
    public var maxOutputTokens: Int?
    public init(maxMessageCharacters: Int = 100_000, contextTokenBudget: Int = 8_192, maxOutputTokens: Int? = nil) {
        self.maxMessageCharacters = maxMessageCharacters
        self.contextTokenBudget = contextTokenBudget
        self.maxOutputTokens = maxOutputTokens
    }
}

/// One chat turn end to end: validate, store the user message and the pending assistant message, build the
/// context within the token budget, and hand generation to the hub.
public struct ChatService: Sendable {
    public let store: any ConversationStore
    public let models: any ModelDirectory
    public let hub: GenerationHub
    public let limits: ChatLimits

    /// History is read backwards, first a short page, then larger ones, until the context budget is full.
    static let firstHistoryPage = 16
    static let historyPageSize = 256

    public init(store: any ConversationStore, models: any ModelDirectory, hub: GenerationHub, limits: ChatLimits) {
        self.store = store
        self.models = models
        self.hub = hub
        self.limits = limits
    }

    /// Posts a user message and starts the answer. The returned job is already running.
    public func postMessage(owner: UserID, conversationID: UUID, content: String, model requestedModel: String?)
        async throws -> GenerationJob
    {
        guard !content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ParleyError.invalid("content must not be empty")
        }
        guard !content.contains("\u{0}") else {
            throw ParleyError.invalid("content must not contain NUL characters")
        }
        guard content.count <= limits.maxMessageCharacters else {
            throw ParleyError.invalid("content is longer than \(limits.maxMessageCharacters) characters")
        }
        let conversation = try await store.conversation(id: conversationID, owner: owner)
        let modelName: String
        if let requested = requestedModel ?? conversation.model {
            modelName = requested
        } else if let fallback = await models.defaultModel() {
            modelName = fallback
        } else {
            throw ParleyError.unavailable("no model is available: configure an upstream")
        }
        let resolved = try await models.resolve(modelName)
        // From here the turn is stored and must get a job: a client that goes away must not cancel it half-way.
        let service = self
        return try await Task {
            let turn = try await service.store.appendTurn(conversationID: conversationID, owner: owner,
                                                          userContent: content, model: resolved.id)
            let context: [ChatMessage]
            do {
                context = try await service.buildContext(conversation: conversation, owner: owner, upTo: turn.user)
            } catch {
                _ = try? await service.store.finishMessage(id: turn.assistant.id, MessageCompletion(
                    content: "", status: .error, errorMessage: "could not read the conversation history: \(error)"))
                throw error
            }
            let request = ChatRequest(model: resolved.upstreamModel, messages: context,
                                      maxTokens: service.limits.maxOutputTokens)
            do {
                return try service.hub.start(user: turn.user, assistant: turn.assistant, request: request,
                                             provider: resolved.provider)
            } catch {
                _ = try? await service.store.finishMessage(id: turn.assistant.id, MessageCompletion(
                    content: "", status: .interrupted, errorMessage: "\(error)"))
                throw error
            }
        }.value
    }

    /// The messages sent upstream for a turn ending with `latest`: the system prompt and the newest history
    /// that fits the budget. Failed or empty answers are left out; partial answers keep their text.
    func buildContext(conversation: Conversation, owner: UserID, upTo latest: Message) async throws -> [ChatMessage] {
        var accumulator = ContextBuilder(tokenBudget: limits.contextTokenBudget)
            .start(systemPrompt: conversation.systemPrompt)
        _ = accumulator.offer(ChatMessage(role: latest.role, content: latest.content))
        var before = latest.index
        var pageSize = Self.firstHistoryPage
        while before > 1 && !accumulator.isFull {
            let page = try await store.contextMessages(conversationID: conversation.id, before: before, limit: pageSize)
            for entry in page where !accumulator.offer(entry.message) { break }
            guard page.count == pageSize, let oldest = page.last else { break }
            before = oldest.index
            pageSize = min(pageSize * 4, Self.historyPageSize)
        }
        return accumulator.messages
    }
}
