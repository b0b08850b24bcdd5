import Foundation
import ParleyCore
import ParleyRetrieval

/// Assistant calls under the same deadline and outage rule as conversation calls.
extension GuardedConversationStore: AssistantStore {
    private func guardedAssistants<T: Sendable>(operation: StaticString = #function,
                                                _ call: @escaping @Sendable (any AssistantStore) async throws -> T) async throws -> T {
        guard let assistants = base as? any AssistantStore else {
            throw ParleyError.unavailable("this database keeps no assistants")
        }
        return try await guarded(operation: operation) { _ in try await call(assistants) }
    }

    public func createAssistant(_ settings: AssistantSettings, owner: UserID, maxPerUser: Int) async throws -> Assistant {
        try await guardedAssistants { try await $0.createAssistant(settings, owner: owner, maxPerUser: maxPerUser) }
    }
    public func assistants(owner: UserID) async throws -> [Assistant] {
        try await guardedAssistants { try await $0.assistants(owner: owner) }
    }
    public func assistant(id: UUID, owner: UserID) async throws -> Assistant {
        try await guardedAssistants { try await $0.assistant(id: id, owner: owner) }
    }
    public func updateAssistant(id: UUID, owner: UserID, settings: AssistantSettings) async throws -> Assistant {
        try await guardedAssistants { try await $0.updateAssistant(id: id, owner: owner, settings: settings) }
    }
    public func deleteAssistant(id: UUID, owner: UserID) async throws {
        try await guardedAssistants { try await $0.deleteAssistant(id: id, owner: owner) }
    }
}

/// Visitor chat calls under the same deadline and outage rule.
extension GuardedConversationStore: VisitorChatStore {
    private func guardedVisitors<T: Sendable>(operation: StaticString = #function,
                                              _ call: @escaping @Sendable (any VisitorChatStore) async throws -> T) async throws -> T {
        guard let visitors = base as? any VisitorChatStore else {
            throw ParleyError.unavailable("this database keeps no visitor chats")
        }
        return try await guarded(operation: operation) { _ in try await call(visitors) }
    }

    public func publishedAssistant(slug: String) async throws -> Assistant {
        try await guardedVisitors { try await $0.publishedAssistant(slug: slug) }
    }
    public func startVisitorChat(_ settings: NewConversation, assistant: Assistant, tokenDigest: String) async throws -> VisitorChat {
        try await guardedVisitors { try await $0.startVisitorChat(settings, assistant: assistant, tokenDigest: tokenDigest) }
    }
    public func visitorChat(id: UUID, tokenDigest: String) async throws -> VisitorChat {
        try await guardedVisitors { try await $0.visitorChat(id: id, tokenDigest: tokenDigest) }
    }
    public func requestHandoff(chatID: UUID, tokenDigest: String, email: String, note: String) async throws -> Handoff {
        try await guardedVisitors { try await $0.requestHandoff(chatID: chatID, tokenDigest: tokenDigest, email: email, note: note) }
    }
    public func visitorChats(assistantID: UUID, owner: UserID, limit: Int, after: ConversationCursor?) async throws -> Page<VisitorChat> {
        try await guardedVisitors { try await $0.visitorChats(assistantID: assistantID, owner: owner, limit: limit, after: after) }
    }
}
