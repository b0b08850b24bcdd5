import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ParleyCore

/// The JSON shapes of the REST API. Field names are snake_case; times are ISO 8601 in UTC with milliseconds.
enum API {
    static func time(_ date: Date) -> String {
        ISO8601.string(date)
    }

    struct Conversation: Encodable {
        var id: String
        var title: String
        var model: String?
        var systemPrompt: String?
        var messageCount: Int
        var createdAt: String
        var updatedAt: String
        enum CodingKeys: String, CodingKey {
            case id, title, model
            case systemPrompt = "system_prompt"
            case messageCount = "message_count"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }
        init(_ conversation: ParleyCore.Conversation) {
            id = conversation.id.lowercased
            title = conversation.title
            model = conversation.model
            systemPrompt = conversation.systemPrompt
            messageCount = conversation.messageCount
            createdAt = API.time(conversation.createdAt)
            updatedAt = API.time(conversation.updatedAt)
        }
    }

    struct Feedback: Encodable {
        var rating: Int
        var comment: String?
        var updatedAt: String
        enum CodingKeys: String, CodingKey {
            case rating, comment
            case updatedAt = "updated_at"
        }
        init(_ feedback: ParleyCore.Feedback) {
            rating = feedback.rating
            comment = feedback.comment
            updatedAt = API.time(feedback.updatedAt)
        }
    }

    struct Usage: Encodable {
        var promptTokens: Int
        var completionTokens: Int
        var totalTokens: Int
        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
            case totalTokens = "total_tokens"
        }
        init(_ usage: TokenUsage) {
            promptTokens = usage.promptTokens
            completionTokens = usage.completionTokens
            totalTokens = usage.totalTokens
        }
    }

    struct Message: Encodable {
        var id: String
        var conversationID: String
        var index: Int
        var parentID: String?
        var role: String
        var content: String
        var model: String?
        var status: String
        var error: String?
        var usage: Usage?
        var timeToFirstTokenMs: Int?
        var latencyMs: Int?
        var createdAt: String
        var updatedAt: String
        var feedback: Feedback?
        enum CodingKeys: String, CodingKey {
            case id, index, role, content, model, status, error, usage, feedback
            case conversationID = "conversation_id"
            case parentID = "parent_id"
            case timeToFirstTokenMs = "time_to_first_token_ms"
            case latencyMs = "latency_ms"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }
        init(_ message: ParleyCore.Message) {
            id = message.id.lowercased
            conversationID = message.conversationID.lowercased
            index = message.index
            parentID = message.parentID?.lowercased
            role = message.role.rawValue
            content = message.content
            model = message.model
            status = message.status.rawValue
            error = message.errorMessage
            if let prompt = message.promptTokens, let completion = message.completionTokens {
                usage = Usage(TokenUsage(promptTokens: prompt, completionTokens: completion))
            }
            timeToFirstTokenMs = message.timeToFirstTokenMs
            latencyMs = message.latencyMs
            createdAt = API.time(message.createdAt)
            updatedAt = API.time(message.updatedAt)
            feedback = message.feedback.map(Feedback.init)
        }
    }

    struct ConversationList: Encodable {
        var data: [Conversation]
        var nextCursor: String?
        enum CodingKeys: String, CodingKey {
            case data
            case nextCursor = "next_cursor"
        }
    }

    struct MessageList: Encodable {
        var data: [Message]
        var hasMore: Bool
        /// Pass as `before` to get the previous page.
        var nextBefore: Int?
        enum CodingKeys: String, CodingKey {
            case data
            case hasMore = "has_more"
            case nextBefore = "next_before"
        }
    }

    struct Model: Encodable {
        var id: String
        var object = "model"
        var upstream: String
    }

    struct ModelList: Encodable {
        var object = "list"
        var data: [Model]
        var defaultModel: String?
        enum CodingKeys: String, CodingKey {
            case object, data
            case defaultModel = "default"
        }
    }

    // MARK: Requests

    struct CreateConversation: Decodable {
        var title: String?
        var model: String?
        var systemPrompt: String?
        enum CodingKeys: String, CodingKey {
            case title, model
            case systemPrompt = "system_prompt"
        }
    }

    /// A PATCH body: an absent field is left alone, `null` clears `model` or `system_prompt`.
    struct UpdateConversation: Decodable {
        var title: String?
        var model: String??
        var systemPrompt: String??
        enum CodingKeys: String, CodingKey {
            case title, model
            case systemPrompt = "system_prompt"
        }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            title = try container.decodeIfPresent(String.self, forKey: .title)
            if container.contains(.model) { model = .some(try container.decodeIfPresent(String.self, forKey: .model)) }
            if container.contains(.systemPrompt) {
                systemPrompt = .some(try container.decodeIfPresent(String.self, forKey: .systemPrompt))
            }
        }
    }

    struct PostMessage: Decodable {
        var content: String
        var model: String?
    }

    struct PutFeedback: Decodable {
        var rating: Int
        var comment: String?
    }
}

extension Response {
    /// A JSON response.
    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONEncoder().encode(value)
        return Response(status: status,
                        headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
