import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ParleyCore
import ParleyGateway
import ParleyRetrieval

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
        var knowledgeBaseIDs: [String]
        var parameters: ChatParameters
        var retrieval: RetrievalSettings
        var pinned: Bool
        var archived: Bool
        var archivedAt: String?
        var tags: [String]
        var createdAt: String
        var updatedAt: String
        enum CodingKeys: String, CodingKey {
            case id, title, model, parameters, retrieval, pinned, archived, tags
            case archivedAt = "archived_at"
            case systemPrompt = "system_prompt"
            case messageCount = "message_count"
            case knowledgeBaseIDs = "knowledge_base_ids"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }
        init(_ conversation: ParleyCore.Conversation) {
            id = conversation.id.lowercased
            title = conversation.title
            model = conversation.model
            systemPrompt = conversation.systemPrompt
            messageCount = conversation.messageCount
            knowledgeBaseIDs = conversation.knowledgeBaseIDs.map(\.lowercased)
            parameters = conversation.parameters
            retrieval = conversation.retrieval
            pinned = conversation.pinned
            archived = conversation.archivedAt != nil
            archivedAt = conversation.archivedAt.map(API.time)
            tags = conversation.tags
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

    struct ConversationList: Encodable {
        var data: [Conversation]
        var nextCursor: String?
        enum CodingKeys: String, CodingKey {
            case data
            case nextCursor = "next_cursor"
        }
    }

    /// A page of messages: `{"data": [...], "has_more": …, "next_before": …}`; pass `next_before` back as
    /// `before` to get the previous page.
    /// A page of history. `has_more` is about the direction read: older messages for a page read with
    /// `before` (or the newest page), then `next_before` continues; newer ones for a page read with `after`,
    /// then `next_after` continues.
    static func messageList(_ messages: [ParleyCore.Message], hasMore: Bool, nextBefore: Int?, nextAfter: Int?) -> String {
        var object = JSONObjectText()
        object.field("data", json: "[" + messages.map(messageJSON).joined(separator: ",") + "]")
        object.field("has_more", hasMore)
        object.field("next_before", nextBefore)
        object.field("next_after", nextAfter)
        return object.closed
    }

    /// A message as JSON text. Written by hand: it goes out with every message event, and JSONEncoder is slow.
    /// An attachment as a message carries it, with where its bytes are read (by its owner only).
    static func attachmentJSON(_ reference: AttachmentReference) -> String { attachmentObject(reference).closed }

    /// The fields every view of an attachment has; the attachment's own endpoint adds more.
    static func attachmentObject(_ reference: AttachmentReference) -> JSONObjectText {
        var object = JSONObjectText()
        object.field("id", reference.id)
        object.field("name", reference.name)
        object.field("media_type", reference.mediaType)
        object.field("kind", reference.kind.rawValue)
        object.field("size", reference.size)
        object.field("url", "/api/v1/attachments/\(reference.id.lowercased)/content")
        return object
    }

    static func messageJSON(_ message: ParleyCore.Message) -> String {
        var object = JSONObjectText()
        object.field("id", message.id)
        object.field("conversation_id", message.conversationID)
        object.field("index", message.index)
        object.field("parent_id", message.parentID)
        object.field("role", message.role.rawValue)
        object.field("active", message.onActiveBranch)
        if !message.siblingIDs.isEmpty {
            object.field("siblings", json: "[" + message.siblingIDs.map { "\"\($0.lowercased)\"" }.joined(separator: ",") + "]")
        }
        object.field("content", message.content)
        object.field("model", message.model)
        object.field("status", message.status.rawValue)
        object.field("error", message.errorMessage)
        if let prompt = message.promptTokens, let completion = message.completionTokens {
            var usage = JSONObjectText()
            usage.field("prompt_tokens", prompt)
            usage.field("completion_tokens", completion)
            usage.field("total_tokens", prompt + completion)
            object.field("usage", json: usage.closed)
        }
        object.field("time_to_first_token_ms", message.timeToFirstTokenMs)
        object.field("latency_ms", message.latencyMs)
        object.field("created_at", API.time(message.createdAt))
        object.field("updated_at", API.time(message.updatedAt))
        if let feedback = message.feedback {
            var rating = JSONObjectText()
            rating.field("rating", feedback.rating)
            rating.field("comment", feedback.comment)
            rating.field("updated_at", API.time(feedback.updatedAt))
            object.field("feedback", json: rating.closed)
        }
        if let parameters = message.parameters, let data = try? JSONEncoder().encode(parameters) {
            object.field("parameters", json: String(decoding: data, as: UTF8.self))
        }
        object.field("cache", message.cache)
        object.field("finish_reason", message.finishReason)
        if let reasoning = message.reasoning {
            object.field("reasoning", reasoning)
            object.field("reasoning_ms", message.reasoningMs)
        }
        if !message.attachments.isEmpty {
            object.field("attachments", json: "[" + message.attachments.map(attachmentJSON).joined(separator: ",") + "]")
        }
        if let sources = message.sources {
            // Stored as written by the grounding; the citations are read from the answer as it stands.
            object.field("sources", json: sources)
            object.field("citations", json: "[" + GroundingSource.citations(in: message.content, count: sourceCount(sources))
                .map(String.init).joined(separator: ",") + "]")
        }
        return object.closed
    }

    /// The number of sources in a message's stored sources (a JSON array), counted without decoding them: the
    /// snippets they hold are most of a grounded answer's JSON, and this runs for every event that carries it.
    static func sourceCount(_ sources: String) -> Int {
        var scanner = JSONScanner(sources.utf8)
        var count = 0
        do {
            try scanner.readArray { element in
                try element.skipValue()
                count += 1
            }
        } catch {
            return 0
        }
        return count
    }

    struct Model: Encodable {
        var id: String
        var object = "model"
        var upstream: String
        /// Whether it takes images (`vision_models`).
        var vision: Bool
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

    /// With `assistant_id`, the assistant's model, system prompt and knowledge bases are the defaults of the others.
    struct CreateConversation: Decodable {
        var title: String?
        var model: String?
        var systemPrompt: String?
        var knowledgeBaseIDs: [String]?
        var assistantID: String?
        var parameters: ChatParametersBody?
        var retrieval: RetrievalSettingsBody?
        var tags: [String]?
        enum CodingKeys: String, CodingKey {
            case title, model, parameters, retrieval, tags
            case systemPrompt = "system_prompt"
            case knowledgeBaseIDs = "knowledge_base_ids"
            case assistantID = "assistant_id"
        }
    }

    /// A PATCH body: an absent field is left alone, `null` clears `model` or `system_prompt`.
    struct UpdateConversation: Decodable {
        var title: String?
        var model: String??
        var systemPrompt: String??
        /// Replaces the attached knowledge bases (`[]` detaches them all).
        var knowledgeBaseIDs: [String]?
        /// Replaces the sampling parameters (`null` clears them all).
        var parameters: ChatParametersBody??
        /// Replaces how its turns search the knowledge bases (`null` restores the server's defaults).
        var retrieval: RetrievalSettingsBody??
        var pinned: Bool?
        /// Archives (`true`: hidden from the list, still found by search) or restores it.
        var archived: Bool?
        /// Replaces its tags.
        var tags: [String]?
        enum CodingKeys: String, CodingKey {
            case title, model, parameters, retrieval, pinned, archived, tags
            case systemPrompt = "system_prompt"
            case knowledgeBaseIDs = "knowledge_base_ids"
        }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            title = try container.decodeIfPresent(String.self, forKey: .title)
            pinned = try container.decodeIfPresent(Bool.self, forKey: .pinned)
            archived = try container.decodeIfPresent(Bool.self, forKey: .archived)
            tags = try container.decodeIfPresent([String].self, forKey: .tags)
            if container.contains(.parameters) {
                parameters = .some(try container.decodeIfPresent(ChatParametersBody.self, forKey: .parameters))
            }
            if container.contains(.retrieval) {
                retrieval = .some(try container.decodeIfPresent(RetrievalSettingsBody.self, forKey: .retrieval))
            }
            knowledgeBaseIDs = try container.decodeIfPresent([String].self, forKey: .knowledgeBaseIDs)
            if container.contains(.model) { model = .some(try container.decodeIfPresent(String.self, forKey: .model)) }
            if container.contains(.systemPrompt) {
                systemPrompt = .some(try container.decodeIfPresent(String.self, forKey: .systemPrompt))
            }
        }
    }

    /// `replaces`: the id of an earlier user message of the conversation on its active branch; this message
    /// becomes a new version of it, and it and what followed it are kept on a branch of their own (editing a
    /// message, or regenerating its answer).
    struct PostMessage: Decodable {
        var content: String
        var model: String?
        var replaces: String?
        /// Ids of the caller's attachments (uploaded first at `POST /api/v1/attachments`).
        var attachments: [String]?

        /// The attachment ids as UUIDs; a malformed one is a 400.
        func attachmentIDs() throws -> [UUID] {
            try (attachments ?? []).enumerated().map { position, text in
                guard let id = UUID(text: text) else {
                    throw ClientError.invalid("attachments[\(position)] is not an attachment id", param: "attachments")
                }
                return id
            }
        }
    }

    /// `message_id`: a message of the conversation whose branch becomes the active one.
    struct SwitchBranch: Decodable {
        var messageID: String
        enum CodingKeys: String, CodingKey { case messageID = "message_id" }
    }

    struct PutFeedback: Decodable {
        var rating: Int
        var comment: String?

        /// A rating of 1 or -1, and a comment without NUL of at most ``MessageRoutes/maxCommentLength`` characters.
        func check() throws {
            guard rating == 1 || rating == -1 else { throw ClientError.invalid("'rating' must be 1 or -1", param: "rating") }
            try rejectNUL(comment, field: "comment")
            if let comment, comment.count > MessageRoutes.maxCommentLength {
                throw ClientError.invalid("'comment' is longer than \(MessageRoutes.maxCommentLength) characters", param: "comment")
            }
        }
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

    /// A response whose body is JSON text already.
    static func json(text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status,
                 headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
