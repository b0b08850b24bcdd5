import Foundation
import ParleyCore

/// The JSON shape of `GET /api/v1/search`.
extension API {
    struct SearchResults: Encodable {
        struct ConversationHit: Encodable {
            var conversation: API.Conversation
            var score: Double
        }
        struct MessageHit: Encodable {
            var id: String
            var conversationID: String
            var conversationTitle: String
            var index: Int
            var role: String
            var createdAt: String
            var snippet: String
            var score: Double
            enum CodingKeys: String, CodingKey {
                case id, index, role, snippet, score
                case conversationID = "conversation_id"
                case conversationTitle = "conversation_title"
                case createdAt = "created_at"
            }
        }
        var query: [String]
        var conversations: [ConversationHit]
        var messages: [MessageHit]
        var nextOffset: Int?
        enum CodingKeys: String, CodingKey {
            case query, conversations, messages
            case nextOffset = "next_offset"
        }

        init(_ results: ParleyCore.SearchResults, terms: SearchTerms, offset: Int, limit: Int) {
            query = terms.words
            conversations = results.conversations.map {
                ConversationHit(conversation: API.Conversation($0.conversation), score: $0.score)
            }
            messages = results.messages.map {
                MessageHit(id: $0.messageID.lowercased, conversationID: $0.conversationID.lowercased,
                           conversationTitle: $0.conversationTitle, index: $0.index, role: $0.role.rawValue,
                           createdAt: API.time($0.createdAt), snippet: $0.snippet, score: $0.score)
            }
            nextOffset = results.hasMore ? offset + limit : nil
        }
    }
}
