import Foundation

/// Who wrote a message.
public enum Role: String, Sendable, Codable, Equatable {
    case system, user, assistant
}

/// The lifecycle of a message. User messages are always `complete`.
public enum MessageStatus: String, Sendable, Codable, Equatable {
    /// A generation job is writing this message.
    case streaming
    case complete
    /// Stopped on request; the partial text is kept.
    case cancelled
    /// The upstream failed; `error` says why and the partial text is kept.
    case error
    /// The server stopped (crash or shutdown) while generating; the partial text is kept.
    case interrupted

    public var isFinal: Bool { self != .streaming }
}

/// A user's rating of an assistant message.
public struct Feedback: Sendable, Equatable {
    /// −1 or +1.
    public var rating: Int
    public var comment: String?
    public var updatedAt: Date
    public init(rating: Int, comment: String?, updatedAt: Date) {
        self.rating = rating
        self.comment = comment
        self.updatedAt = updatedAt
    }
}

/// One message, stored as one row.
public struct Message: Sendable, Equatable {
    public var id: UUID
    public var conversationID: UUID
    /// Position in the conversation, starting at 1; pages are read by it.
    public var index: Int
    /// The message this one follows on its branch: for an answer, the user message it answers; for a user
    /// message, the message before it (nil for the first). Messages with the same parent are siblings: the
    /// versions an edit or a regeneration left behind.
    public var parentID: UUID?
    public var role: Role
    public var content: String
    public var model: String?
    public var status: MessageStatus
    public var errorMessage: String?
    public var promptTokens: Int?
    public var completionTokens: Int?
    /// Milliseconds from the job's start to its first token.
    public var timeToFirstTokenMs: Int?
    /// Milliseconds from the job's start to its end.
    public var latencyMs: Int?
    public var createdAt: Date
    public var updatedAt: Date
    public var feedback: Feedback?
    /// For an answer grounded in knowledge bases, the numbered passages it was given, as JSON (an array written
    /// by the retrieval module; the domain only carries it).
    public var sources: String?
    /// For an answer, the sampling parameters it was asked with (nil: the upstream's defaults).
    public var parameters: ChatParameters?
    /// For an answer, `hit` when the response cache served it, `miss` when it was cached on the way; nil otherwise.
    public var cache: String?
    /// For an answer from a reasoning model, the reasoning it streamed, kept apart from ``content``.
    public var reasoning: String?
    /// Milliseconds the model spent reasoning: from its first piece of reasoning to its first piece of answer.
    public var reasoningMs: Int?
    /// Why the upstream ended the answer (`stop`, `length`…); `length` means it can be continued.
    public var finishReason: String?
    /// True when the message is on the conversation's active branch (the one pages, the context and new turns
    /// follow); versions replaced by an edit or a regeneration are kept off it.
    public var onActiveBranch = true
    /// The versions of this message (its siblings and itself, oldest first) when there is more than one; filled
    /// by history pages, empty otherwise.
    public var siblingIDs: [UUID] = []
    /// For a user message, the files and images attached to it.
    public var attachments: [AttachmentReference] = []

    public init(id: UUID, conversationID: UUID, index: Int, parentID: UUID?, role: Role, content: String,
                model: String?, status: MessageStatus, errorMessage: String? = nil, promptTokens: Int? = nil,
                completionTokens: Int? = nil, timeToFirstTokenMs: Int? = nil, latencyMs: Int? = nil,
                createdAt: Date, updatedAt: Date, feedback: Feedback? = nil, sources: String? = nil,
                parameters: ChatParameters? = nil, cache: String? = nil, reasoning: String? = nil,
                reasoningMs: Int? = nil, finishReason: String? = nil) {
        self.id = id
        self.conversationID = conversationID
        self.index = index
        self.parentID = parentID
        self.role = role
        self.content = content
        self.model = model
        self.status = status
        self.errorMessage = errorMessage
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.timeToFirstTokenMs = timeToFirstTokenMs
        self.latencyMs = latencyMs
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.feedback = feedback
        self.sources = sources
        self.parameters = parameters
        self.cache = cache
        self.reasoning = reasoning
        self.reasoningMs = reasoningMs
        self.finishReason = finishReason
    }
}

/// Which page of a conversation's history to read.
public enum MessageWindow: Sendable, Equatable {
    /// The newest messages.
    case newest
    /// Messages with an index below this one: paging back through older history.
    case before(Int)
    /// Messages with an index above this one: paging forward, toward the newest (from a search hit, say).
    case after(Int)
}

/// One page of a conversation's history, oldest first.
public struct MessagePage: Sendable {
    public var messages: [Message]
    /// True when more messages lie beyond this page in the direction it was read: older ones for
    /// ``MessageWindow/newest`` and ``MessageWindow/before(_:)``, newer ones for ``MessageWindow/after(_:)``.
    public var hasMore: Bool
    public init(messages: [Message], hasMore: Bool) {
        self.messages = messages
        self.hasMore = hasMore
    }
}

/// How a generation ended, written to the assistant message in one update.
public struct MessageCompletion: Sendable, Equatable {
    public var content: String
    public var status: MessageStatus
    public var errorMessage: String?
    public var promptTokens: Int?
    public var completionTokens: Int?
    public var timeToFirstTokenMs: Int?
    public var latencyMs: Int?
    /// Whether the response cache served the answer (``Message/cache``).
    public var cache: String?
    /// The reasoning streamed with the answer (``Message/reasoning``) and how long it took.
    public var reasoning: String?
    public var reasoningMs: Int?
    /// Why the upstream ended the answer (``Message/finishReason``).
    public var finishReason: String?
    public init(content: String, status: MessageStatus, errorMessage: String? = nil, promptTokens: Int? = nil,
                completionTokens: Int? = nil, timeToFirstTokenMs: Int? = nil, latencyMs: Int? = nil, cache: String? = nil,
                reasoning: String? = nil, reasoningMs: Int? = nil, finishReason: String? = nil) {
        self.content = content
        self.status = status
        self.errorMessage = errorMessage
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.timeToFirstTokenMs = timeToFirstTokenMs
        self.latencyMs = latencyMs
        self.cache = cache
        self.reasoning = reasoning
        self.reasoningMs = reasoningMs
        self.finishReason = finishReason
    }
}
