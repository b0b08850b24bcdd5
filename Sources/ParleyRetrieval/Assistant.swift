import Foundation
import ParleyCore

/// A saved chat preset — a name, what it is for, its system prompt, model, knowledge bases and how they are
/// searched — that its owner
/// starts chats with. Starting a chat copies the preset into the conversation, which then goes its own way.
public struct Assistant: Sendable, Equatable {
    public var id: UUID
    public var ownerID: UserID
    public var name: String
    public var description: String
    public var systemPrompt: String?
    /// The model its chats use; nil: the server's default.
    public var model: String?
    /// The knowledge bases its chats answer from.
    public var knowledgeBaseIDs: [UUID]
    /// Where anonymous visitors chat with it (`/a/{slug}` and the widget); nil while it is not published. A
    /// random token: knowing one published assistant's address says nothing of another's.
    public var publicSlug: String?
    /// The sites (origins such as `https://example.com`) whose pages may frame its visitors' page, the widget's;
    /// empty: any site.
    public var embedOrigins: [String]
    /// How its chats' answers are sampled.
    public var parameters: ChatParameters
    /// How its chats search the knowledge bases.
    public var retrieval: RetrievalSettings
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: UUID, ownerID: UserID, name: String, description: String, systemPrompt: String?, model: String?,
                knowledgeBaseIDs: [UUID], publicSlug: String? = nil, embedOrigins: [String] = [],
                parameters: ChatParameters = ChatParameters(), retrieval: RetrievalSettings = RetrievalSettings(),
                createdAt: Date, updatedAt: Date) {
        self.id = id
        self.ownerID = ownerID
        self.name = name
        self.description = description
        self.systemPrompt = systemPrompt
        self.model = model
        self.knowledgeBaseIDs = knowledgeBaseIDs
        self.publicSlug = publicSlug
        self.embedOrigins = embedOrigins
        self.parameters = parameters
        self.retrieval = retrieval
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// An assistant's settings, as created or as changed: for a change, `nil` leaves a field as it is and `.some(nil)`
/// clears it.
public struct AssistantSettings: Sendable, Equatable {
    public var name: String?
    public var description: String?
    public var systemPrompt: String??
    public var model: String??
    public var knowledgeBaseIDs: [UUID]?
    /// `.some(slug)` publishes it at that address, `.some(nil)` withdraws it (its visitors' chats stay, closed).
    public var publicSlug: String??
    /// Replaces the sites that may frame its visitors' page.
    public var embedOrigins: [String]?
    /// Replaces the sampling parameters.
    public var parameters: ChatParameters?
    /// Replaces how its chats search the knowledge bases.
    public var retrieval: RetrievalSettings?

    public init(name: String? = nil, description: String? = nil, systemPrompt: String?? = nil, model: String?? = nil,
                knowledgeBaseIDs: [UUID]? = nil, publicSlug: String?? = nil, embedOrigins: [String]? = nil,
                parameters: ChatParameters? = nil, retrieval: RetrievalSettings? = nil) {
        self.name = name
        self.description = description
        self.systemPrompt = systemPrompt
        self.model = model
        self.knowledgeBaseIDs = knowledgeBaseIDs
        self.publicSlug = publicSlug
        self.embedOrigins = embedOrigins
        self.parameters = parameters
        self.retrieval = retrieval
    }
}

/// Where assistants are kept; every call is scoped by the owner, so another user's assistant is not found.
public protocol AssistantStore: Sendable {
    /// Creates an assistant (`settings.name` is required); more than `maxPerUser` for one owner is a conflict.
    func createAssistant(_ settings: AssistantSettings, owner: UserID, maxPerUser: Int) async throws -> Assistant
    /// The owner's assistants, by name.
    func assistants(owner: UserID) async throws -> [Assistant]
    func assistant(id: UUID, owner: UserID) async throws -> Assistant
    func updateAssistant(id: UUID, owner: UserID, settings: AssistantSettings) async throws -> Assistant
    func deleteAssistant(id: UUID, owner: UserID) async throws
}
