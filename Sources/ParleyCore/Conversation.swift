import Foundation

/// A conversation: a titled, ordered list of messages owned by one user.
public struct Conversation: Sendable, Equatable {
    public var id: UUID
    public var ownerID: UserID
    public var title: String
    /// The model used for new turns when a message does not name one.
    public var model: String?
    public var systemPrompt: String?
    public var messageCount: Int
    public var createdAt: Date
    public var updatedAt: Date
    /// Knowledge bases its turns retrieve passages from and cite.
    public var knowledgeBaseIDs: [UUID]
    /// How its answers are sampled.
    public var parameters: ChatParameters
    /// How its turns use the knowledge bases.
    public var retrieval: RetrievalSettings
    /// Kept at the top of the list.
    public var pinned = false
    /// Hidden from the list (still found by search) since then; nil: not archived.
    public var archivedAt: Date?
    /// The owner's labels, lowercase, in the order given.
    public var tags: [String] = []

    public init(id: UUID, ownerID: UserID, title: String, model: String?, systemPrompt: String?,
                messageCount: Int, createdAt: Date, updatedAt: Date, knowledgeBaseIDs: [UUID] = [],
                parameters: ChatParameters = ChatParameters(), retrieval: RetrievalSettings = RetrievalSettings()) {
        self.id = id
        self.ownerID = ownerID
        self.title = title
        self.model = model
        self.systemPrompt = systemPrompt
        self.messageCount = messageCount
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.knowledgeBaseIDs = knowledgeBaseIDs
        self.parameters = parameters
        self.retrieval = retrieval
    }
}

/// What a client may set when creating a conversation.
public struct NewConversation: Sendable, Equatable {
    public var title: String?
    public var model: String?
    public var systemPrompt: String?
    public var knowledgeBaseIDs: [UUID]
    public var parameters: ChatParameters
    public var retrieval: RetrievalSettings
    public var tags: [String]
    public init(title: String? = nil, model: String? = nil, systemPrompt: String? = nil, knowledgeBaseIDs: [UUID] = [],
                parameters: ChatParameters = ChatParameters(), retrieval: RetrievalSettings = RetrievalSettings(),
                tags: [String] = []) {
        self.title = title
        self.model = model
        self.systemPrompt = systemPrompt
        self.knowledgeBaseIDs = knowledgeBaseIDs
        self.parameters = parameters
        self.retrieval = retrieval
        self.tags = tags
    }
}

/// A partial update of a conversation; `nil` leaves a field as it is, `.some(nil)` clears it.
public struct ConversationPatch: Sendable, Equatable {
    public var title: String?
    public var model: String??
    public var systemPrompt: String??
    /// Replaces the attached knowledge bases.
    public var knowledgeBaseIDs: [UUID]?
    /// Replaces the sampling parameters.
    public var parameters: ChatParameters?
    /// Replaces how its turns use the knowledge bases.
    public var retrieval: RetrievalSettings?
    public var pinned: Bool?
    /// Archives (true) or restores (false) it.
    public var archived: Bool?
    /// Replaces its tags.
    public var tags: [String]?

    /// True when it changes the conversation itself (moving it to the top of the list), not only where it is kept
    /// (pinned, archived, tagged).
    public var changesContent: Bool {
        title != nil || model != nil || systemPrompt != nil || knowledgeBaseIDs != nil || parameters != nil || retrieval != nil
    }

    public init(title: String? = nil, model: String?? = nil, systemPrompt: String?? = nil, knowledgeBaseIDs: [UUID]? = nil,
                parameters: ChatParameters? = nil, retrieval: RetrievalSettings? = nil, pinned: Bool? = nil,
                archived: Bool? = nil, tags: [String]? = nil) {
        self.title = title
        self.model = model
        self.systemPrompt = systemPrompt
        self.knowledgeBaseIDs = knowledgeBaseIDs
        self.parameters = parameters
        self.retrieval = retrieval
        self.pinned = pinned
        self.archived = archived
        self.tags = tags
    }
}

/// One page of a cursor-paged list.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    /// Pass this back to get the next page; `nil` when there is none.
    public var nextCursor: String?
    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// Position in the newest-first conversation list: the last row of the previous page.
public struct ConversationCursor: Sendable, Equatable {
    public var updatedAtMillis: Int64
    public var id: UUID
    public init(updatedAtMillis: Int64, id: UUID) {
        self.updatedAtMillis = updatedAtMillis
        self.id = id
    }

    /// An opaque URL-safe token.
    public var token: String {
        let raw = "\(updatedAtMillis):\(id.lowercased)"
        return Data(raw.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Parses a token made by ``token``; `nil` for anything else.
    public init?(token: String) {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard token.count <= 128, let data = Data(base64Encoded: base64),
              let raw = String(data: data, encoding: .utf8) else { return nil }
        let parts = raw.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let millis = CheckedNumber.integer(parts[0], in: 0...(1 << 50)), let id = UUID(text: parts[1]) else {
            return nil
        }
        self.init(updatedAtMillis: Int64(millis), id: id)
    }
}

/// Filters and paging for listing conversations.
public struct ConversationQuery: Sendable, Equatable {
    public var limit: Int
    public var after: ConversationCursor?
    /// Case-insensitive substring of the title, when set.
    public var search: String?
    /// Only pinned (true) or only unpinned (false) conversations; nil: both.
    public var pinned: Bool?
    /// Archived conversations instead of the others.
    public var archived = false
    /// Only conversations with this tag.
    public var tag: String?
    public init(limit: Int, after: ConversationCursor? = nil, search: String? = nil, pinned: Bool? = nil, archived: Bool = false,
                tag: String? = nil) {
        self.limit = limit
        self.after = after
        self.search = search
        self.pinned = pinned
        self.archived = archived
        self.tag = tag
    }
}

extension Conversation {
    /// Tags as a database column holds them: each between commas (`,work,trips,`), so one matches `%,tag,%`.
    public static func tagColumn(_ tags: [String]) -> String { tags.isEmpty ? "" : "," + tags.joined(separator: ",") + "," }
    public static func tags(column: String) -> [String] { column.split(separator: ",").map(String.init) }

    /// Attached knowledge bases as a database column holds them: lowercase ids separated by commas.
    public static func knowledgeBaseColumn(_ ids: [UUID]) -> String { ids.map(\.lowercased).joined(separator: ",") }
    public static func knowledgeBaseIDs(column: String) -> [UUID] {
        column.split(separator: ",").compactMap { UUID(uuidString: String($0)) }
    }
}

extension Page {
    /// The first `limit` of `rows` (read one past the limit), with a cursor after the last when more followed.
    public static func cut(_ rows: [Item], limit: Int, cursor: (Item) -> ConversationCursor) -> Page {
        let items = Array(rows.prefix(limit))
        return Page(items: items, nextCursor: rows.count > limit ? items.last.map(cursor)?.token : nil)
    }
}
