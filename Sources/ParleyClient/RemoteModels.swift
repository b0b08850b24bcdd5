/// A conversation as the API returns it.
public struct RemoteConversation: Codable, Sendable {
    public var id: String
    public var title: String
    public var model: String?
    public var systemPrompt: String?
    public var messageCount: Int?
    public var knowledgeBaseIds: [String]?
    public var createdAt: String
    public var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case id, title, model
        case systemPrompt = "system_prompt"
        case messageCount = "message_count"
        case knowledgeBaseIds = "knowledge_base_ids"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// A message as the API returns it.
public struct RemoteMessage: Codable, Sendable {
    public struct Usage: Codable, Sendable {
        public var promptTokens: Int
        public var completionTokens: Int
        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
        }
    }

    public var id: String
    public var conversationId: String
    public var index: Int
    public var role: String
    public var content: String
    public var model: String?
    public var status: String
    public var error: String?
    public var usage: Usage?
    public var createdAt: String
    /// For an answer grounded in knowledge bases: its numbered sources, and the numbers its text cites.
    public var sources: [RemoteSource]?
    public var citations: [Int]?

    enum CodingKeys: String, CodingKey {
        case id, index, role, content, model, status, error, usage, sources, citations
        case conversationId = "conversation_id"
        case createdAt = "created_at"
    }
}

/// A passage an answer was given, as `[n]` in its text cites it.
public struct RemoteSource: Codable, Sendable {
    public var n: Int
    public var documentName: String
    public var page: Int?
    public var headingPath: [String]?
    public var text: String

    enum CodingKeys: String, CodingKey {
        case n, page, text
        case documentName = "document_name"
        case headingPath = "heading_path"
    }

    /// `guide.md, p. 2, Setup › Reset`.
    public var place: String {
        var parts = [documentName]
        if let page { parts.append("p. \(page)") }
        if let headings = headingPath, !headings.isEmpty { parts.append(headings.joined(separator: " › ")) }
        return parts.joined(separator: ", ")
    }
}

/// A knowledge base the user may read.
public struct RemoteKnowledgeBase: Codable, Sendable {
    public var id: String
    public var name: String
}

struct KnowledgeBaseList: Decodable {
    var data: [RemoteKnowledgeBase]
}

/// A model the server offers.
public struct RemoteModel: Codable, Sendable {
    public var id: String
    public var upstream: String?
}

struct ModelList: Decodable {
    var data: [RemoteModel]
    var `default`: String?
}

struct ConversationPage: Decodable {
    var data: [RemoteConversation]
    var nextCursor: String?
    enum CodingKeys: String, CodingKey {
        case data
        case nextCursor = "next_cursor"
    }
}

struct MessagePage: Decodable {
    var data: [RemoteMessage]
    var nextAfter: Int?
    enum CodingKeys: String, CodingKey {
        case data
        case nextAfter = "next_after"
    }
}

/// A finished turn (`Accept: application/json`).
public struct RemoteTurn: Decodable, Sendable {
    public var user: RemoteMessage
    public var assistant: RemoteMessage
}

/// What `GET /api/v1/search` finds: conversations by title, messages by text (with a snippet around the words).
public struct RemoteSearchResults: Decodable, Sendable {
    public struct ConversationHit: Decodable, Sendable {
        public var conversation: RemoteConversation
    }
    public struct MessageHit: Decodable, Sendable {
        public var id: String
        public var conversationId: String
        public var conversationTitle: String
        public var role: String
        public var snippet: String
        enum CodingKeys: String, CodingKey {
            case id, role, snippet
            case conversationId = "conversation_id"
            case conversationTitle = "conversation_title"
        }
    }
    public var query: [String]
    public var conversations: [ConversationHit]
    public var messages: [MessageHit]
}
