import Foundation

/// Durable storage of conversations, messages and feedback.
///
/// Every call that reads or changes user data takes the owner, so another user's ids behave as unknown ones.
/// Implementations must be safe under concurrency: many turns appended to one conversation at once each get
/// their own indexes and none is lost. The contract test suite in `ParleyStoreTests` holds every backend to this.
public protocol ConversationStore: Sendable {
    /// Applies pending migrations. Safe to call on every start.
    func migrate() async throws
    /// Succeeds when the database answers a trivial query.
    func ping() async throws

    func createConversation(_ new: NewConversation, owner: UserID) async throws -> Conversation
    func listConversations(owner: UserID, query: ConversationQuery) async throws -> Page<Conversation>
    /// Throws ``ParleyError/notFound(_:)`` for unknown ids.
    func conversation(id: UUID, owner: UserID) async throws -> Conversation
    func updateConversation(id: UUID, owner: UserID, patch: ConversationPatch) async throws -> Conversation
    /// Deletes the conversation, its messages and their feedback.
    func deleteConversation(id: UUID, owner: UserID) async throws
    /// Sets a title a model wrote, unless the user has named the conversation; true when it was set.
    func setGeneratedTitle(conversationID: UUID, owner: UserID, title: String) async throws -> Bool

    /// Up to `limit` messages of the `window`, oldest first.
    func messages(conversationID: UUID, owner: UserID, window: MessageWindow, limit: Int) async throws -> MessagePage
    /// The role and text of up to `limit` messages with index below `before`, newest first, for building the
    /// context of a turn: system messages, empty texts and messages still `streaming` are left out. The caller
    /// has already checked that the conversation belongs to the user.
    func contextMessages(conversationID: UUID, before: Int, limit: Int) async throws -> [(index: Int, message: ChatMessage)]
    /// Every message of every branch with an index above `after`, oldest first, `limit` at most (an export of the
    /// whole tree). Throws ``ParleyError/notFound(_:)`` for another user's or an unknown conversation.
    func messageTree(conversationID: UUID, owner: UserID, after: Int, limit: Int) async throws -> MessagePage
    /// Makes the branch through `messageID` the active one: the message, its ancestors, and below it the newest
    /// version at each step down; the branch left keeps its messages, off the active path. Throws
    /// ``ParleyError/notFound(_:)`` for another user's or an unknown conversation or message.
    func switchBranch(conversationID: UUID, owner: UserID, to messageID: UUID) async throws
    /// Deletes the conversation's messages whose index is `fromIndex` or more (and their feedback); the
    /// conversation stays and its indexes are never reused.
    func deleteMessages(conversationID: UUID, owner: UserID, fromIndex: Int) async throws
    func message(id: UUID, owner: UserID) async throws -> Message

    /// Starts a turn in one transaction: stores the user message and the assistant message that will answer
    /// it (status `streaming`) at the next two indexes, bumps the conversation's `updatedAt`, titles an untitled
    /// conversation from the message, and reads what the context needs — the system prompt and up to
    /// `historyLimit` earlier messages (as ``contextMessages(conversationID:before:limit:)`` would).
    /// The assistant's model is `model`, else the conversation's, else `defaultModel`. The assistant message
    /// holds a generation lease for `lease`: unless renewed, it is reaped as `interrupted` after that.
    /// The user message follows the active branch's newest message. With `replacingFrom` (the index of a user
    /// message on the active branch: editing it, or asking again for its answer), the new user message becomes its
    /// sibling, and it and what followed it leave the active branch in the same transaction (they are kept); the
    /// history read leaves them out. A `replacingFrom` off the active branch throws ``ParleyError/conflict(_:)``.
    /// The user message records `attachments` (checked by the caller to be the owner's).
    func startTurn(conversationID: UUID, owner: UserID, userContent: String, attachments: [AttachmentReference],
                   model: String?, defaultModel: String?, historyLimit: Int, lease: Duration,
                   replacingFrom: Int?) async throws -> Turn

    /// Reopens a finished answer so a generation can continue it: in one statement, the owner's assistant message,
    /// when it is the newest of its conversation and no longer `streaming`, becomes `streaming` again (error and
    /// finish reason cleared) with a generation lease for `lease`; returns it with its stored text. Throws
    /// `notFound` for another user's or a missing message, `conflict` when it is not an answer that can be
    /// continued (still streaming, not the newest, a user message).
    func reopenAnswer(id: UUID, owner: UserID, lease: Duration) async throws -> Message

    /// Records the sources an answer is grounded in (see ``Message/sources``).
    func setSources(messageID: UUID, sources: String) async throws

    /// Writes the partial text (and reasoning) of messages still `streaming`, in one transaction. Finished
    /// messages are left alone.
    func savePartialContent(_ updates: [PartialAnswer]) async throws
    /// Writes the final state of an assistant message and returns it.
    func finishMessage(id: UUID, _ completion: MessageCompletion) async throws -> Message
    /// Extends the generation lease of those of these messages still `streaming` to `duration` from now (by the
    /// database's clock) and returns the status of each message that still exists: one no longer `streaming`
    /// was stopped or reaped elsewhere; one missing was deleted.
    func renewLeases(_ ids: [UUID], for duration: Duration) async throws -> [UUID: MessageStatus]
    /// Marks every `streaming` message whose lease has expired (its replica died) as `interrupted`, keeping its
    /// text, and returns their ids. Any replica may run this at any time.
    func interruptExpiredGenerations() async throws -> [UUID]
    /// Ends a message that is still `streaming` with `status`, keeping its stored text; returns false when it
    /// was no longer streaming. For stopping a generation whose replica does not answer.
    func endStreaming(id: UUID, status: MessageStatus, errorMessage: String?) async throws -> Bool

    /// Stores a whole conversation with its finished messages in one transaction (imports, seeding). The
    /// messages keep their ids, indexes and times; ``ConversationImport/validate()`` has been checked.
    func importConversation(_ conversation: ConversationImport) async throws

    /// Ranked full-text search of the owner's conversation titles and finished messages (a message is indexed
    /// when its generation ends): `limit` of each, after skipping `offset` of each.
    func search(owner: UserID, terms: SearchTerms, limit: Int, offset: Int) async throws -> SearchResults

    func setFeedback(messageID: UUID, owner: UserID, rating: Int, comment: String?) async throws -> Feedback
    func deleteFeedback(messageID: UUID, owner: UserID) async throws
}

/// What ``ConversationStore/startTurn(conversationID:owner:userContent:model:defaultModel:historyLimit:lease:)`` stored and read.
/// An answer's text so far, saved while it streams.
public struct PartialAnswer: Sendable, Equatable {
    public var id: UUID
    public var content: String
    /// Its reasoning so far; nil leaves the stored reasoning as it is.
    public var reasoning: String?
    public init(id: UUID, content: String, reasoning: String? = nil) {
        self.id = id
        self.content = content
        self.reasoning = reasoning
    }
}

public struct Turn: Sendable {
    public var user: Message
    public var assistant: Message
    public var systemPrompt: String?
    /// Earlier messages for the context, newest first.
    public var history: [(index: Int, message: ChatMessage)]
    /// The conversation's knowledge bases, for grounding the answer.
    public var knowledgeBaseIDs: [UUID]
    /// The conversation's sampling parameters (also recorded on the answer).
    public var parameters: ChatParameters
    /// How the conversation's knowledge bases are searched for the answer.
    public var retrieval: RetrievalSettings

    public init(user: Message, assistant: Message, systemPrompt: String?, history: [(index: Int, message: ChatMessage)],
                knowledgeBaseIDs: [UUID] = [], parameters: ChatParameters = ChatParameters(),
                retrieval: RetrievalSettings = RetrievalSettings()) {
        self.user = user
        self.assistant = assistant
        self.systemPrompt = systemPrompt
        self.history = history
        self.knowledgeBaseIDs = knowledgeBaseIDs
        self.parameters = parameters
        self.retrieval = retrieval
    }
}

extension ConversationStore {
    /// Saves the partial text of answers that have no reasoning.
    public func savePartialContent(_ updates: [(id: UUID, content: String)]) async throws {
        try await savePartialContent(updates.map { PartialAnswer(id: $0.id, content: $0.content) })
    }

    /// Up to `limit` messages with index below `before` (or the newest when `nil`), oldest first.
    public func messages(conversationID: UUID, owner: UserID, before: Int?, limit: Int) async throws -> MessagePage {
        try await messages(conversationID: conversationID, owner: owner, window: before.map { .before($0) } ?? .newest,
                           limit: limit)
    }

    /// Deletes every message of the conversation (and their feedback); the conversation stays.
    public func clearMessages(conversationID: UUID, owner: UserID) async throws {
        try await deleteMessages(conversationID: conversationID, owner: owner, fromIndex: 0)
    }

    /// Starts a turn without attachments.
    public func startTurn(conversationID: UUID, owner: UserID, userContent: String, model: String?,
                          defaultModel: String?, historyLimit: Int, lease: Duration, replacingFrom: Int? = nil) async throws -> Turn {
        try await startTurn(conversationID: conversationID, owner: owner, userContent: userContent, attachments: [],
                            model: model, defaultModel: defaultModel, historyLimit: historyLimit, lease: lease,
                            replacingFrom: replacingFrom)
    }

    /// Starts a turn with an explicit model and no history read (for tools and tests).
    public func appendTurn(conversationID: UUID, owner: UserID, userContent: String, model: String,
                           lease: Duration = .seconds(60)) async throws -> (user: Message, assistant: Message)
    {
        let turn = try await startTurn(conversationID: conversationID, owner: owner, userContent: userContent,
                                       model: model, defaultModel: nil, historyLimit: 0, lease: lease)
        return (turn.user, turn.assistant)
    }
}

/// A conversation brought in whole, with its messages.
public struct ConversationImport: Sendable {
    public var conversation: Conversation
    /// Oldest first, none `streaming`, indexes rising from 1.
    public var messages: [Message]
    /// True when the messages' parents are the tree as it is (an import of branches): a message without a parent
    /// is then a first message. False: one without a parent follows the message before it.
    public var parentsAreExplicit = false
    public init(conversation: Conversation, messages: [Message]) {
        self.conversation = conversation
        self.messages = messages
    }

    /// Throws ``ParleyError/invalid(_:)`` when the messages cannot be stored as given.
    public func validate() throws {
        var previous = 0
        for message in messages {
            guard message.conversationID == conversation.id else {
                throw ParleyError.invalid("message \(message.id.lowercased) belongs to another conversation")
            }
            guard message.status != .streaming else {
                throw ParleyError.invalid("message \(message.id.lowercased) is still streaming")
            }
            guard message.index > previous else { throw ParleyError.invalid("message indexes must rise from 1") }
            previous = message.index
        }
    }

    /// The index of the last message (0 when there are none).
    public var lastIndex: Int { messages.last?.index ?? 0 }

    /// The messages as stored: unless ``parentsAreExplicit``, one without a parent follows the message before it
    /// (a flat history), except the first. Branches come in with explicit parents and ``Message/onActiveBranch``.
    public var linkedMessages: [Message] {
        if parentsAreExplicit { return messages }
        var linked = messages
        for position in linked.indices.dropFirst() where linked[position].parentID == nil {
            linked[position].parentID = linked[position - 1].id
        }
        return linked
    }

    /// How many messages are on the active branch.
    public var activeCount: Int { messages.count { $0.onActiveBranch } }
}
