import Foundation
import ParleyCore

/// A chat an anonymous visitor holds with a published assistant. It is a conversation of the assistant's owner
/// (kept apart from their own chats), reached by the visitor only with the token they were given when it
/// started — the store keeps only the token's digest.
public struct VisitorChat: Sendable, Equatable {
    public var conversation: Conversation
    public var assistantID: UUID
    /// The visitor's request to talk to a person, when they made one.
    public var handoff: Handoff?
    /// The visitor's ratings of the answers.
    public var thumbsUp: Int
    public var thumbsDown: Int

    public init(conversation: Conversation, assistantID: UUID, handoff: Handoff?, thumbsUp: Int = 0, thumbsDown: Int = 0) {
        self.conversation = conversation
        self.assistantID = assistantID
        self.handoff = handoff
        self.thumbsUp = thumbsUp
        self.thumbsDown = thumbsDown
    }
}

/// A visitor's request to be contacted by a person: where, and what about.
public struct Handoff: Sendable, Equatable {
    public var email: String
    public var note: String
    public var requestedAt: Date

    public init(email: String, note: String, requestedAt: Date) {
        self.email = email
        self.note = note
        self.requestedAt = requestedAt
    }
}

/// Where published assistants are found and their visitors' chats are kept.
public protocol VisitorChatStore: Sendable {
    /// The assistant published at `slug`; not found once it is withdrawn.
    func publishedAssistant(slug: String) async throws -> Assistant
    /// Starts a visitor's chat as a conversation of the assistant's owner with `settings`, reachable with the
    /// token whose digest is `tokenDigest`.
    func startVisitorChat(_ settings: NewConversation, assistant: Assistant, tokenDigest: String) async throws -> VisitorChat
    /// The visitor's chat, when `tokenDigest` is its token's and its assistant is still published; not found otherwise.
    func visitorChat(id: UUID, tokenDigest: String) async throws -> VisitorChat
    /// Records (or replaces) the visitor's request to talk to a person.
    func requestHandoff(chatID: UUID, tokenDigest: String, email: String, note: String) async throws -> Handoff
    /// The visitors' chats with one of `owner`'s assistants, most recently active first.
    func visitorChats(assistantID: UUID, owner: UserID, limit: Int, after: ConversationCursor?) async throws -> Page<VisitorChat>
}
