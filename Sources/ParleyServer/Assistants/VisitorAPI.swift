import Foundation
import ParleyCore
import ParleyRetrieval

extension API {
    /// What a visitor sees of a published assistant: its name and what it is for — nothing of its prompt, model,
    /// knowledge bases or owner.
    struct PublicAssistant: Encodable {
        var name: String
        var description: String

        init(_ assistant: ParleyRetrieval.Assistant) {
            name = assistant.name
            description = assistant.description
        }
    }

    /// `POST /api/v1/public/assistants/{slug}/chats`: the new chat and the token that reaches it (shown once).
    struct StartedVisitorChat: Encodable {
        var id: String
        var token: String
        var assistant: PublicAssistant
    }

    /// `POST /api/v1/public/chats/{id}/handoff`.
    struct HandoffBody: Decodable {
        var email: String
        var note: String?
    }

    struct Handoff: Encodable {
        var email: String
        var note: String
        var requestedAt: String
        enum CodingKeys: String, CodingKey {
            case email, note
            case requestedAt = "requested_at"
        }

        init(_ handoff: ParleyRetrieval.Handoff) {
            email = handoff.email
            note = handoff.note
            requestedAt = API.time(handoff.requestedAt)
        }
    }

    /// A visitor's chat as its assistant's owner sees it in the list: read its messages as a conversation's.
    struct VisitorChat: Encodable {
        var id: String
        var title: String
        var messageCount: Int
        var handoff: Handoff?
        var thumbsUp: Int
        var thumbsDown: Int
        var createdAt: String
        var updatedAt: String
        enum CodingKeys: String, CodingKey {
            case id, title, handoff
            case messageCount = "message_count"
            case thumbsUp = "thumbs_up"
            case thumbsDown = "thumbs_down"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }

        init(_ chat: ParleyRetrieval.VisitorChat) {
            id = chat.conversation.id.lowercased
            title = chat.conversation.title
            messageCount = chat.conversation.messageCount
            handoff = chat.handoff.map(Handoff.init)
            thumbsUp = chat.thumbsUp
            thumbsDown = chat.thumbsDown
            createdAt = API.time(chat.conversation.createdAt)
            updatedAt = API.time(chat.conversation.updatedAt)
        }
    }

    struct VisitorChatList: Encodable {
        var data: [VisitorChat]
        var nextCursor: String?
        enum CodingKeys: String, CodingKey {
            case data
            case nextCursor = "next_cursor"
        }
    }

    /// What a visitor is told when an answer fails: the upstream's own words may name models or hosts.
    static let visitorErrorText = "The assistant could not answer just now. Please try again."

    /// A message as a visitor sees it: the chat, its sources' documents and passages, and their own rating — not
    /// the model, usage, timings, or ids of the owner's knowledge bases and documents. `unanswered` is true when
    /// the knowledge bases had nothing relevant (the visitor is offered a person).
    static func visitorMessageJSON(_ message: ParleyCore.Message) -> String {
        var object = JSONObjectText()
        object.field("id", message.id)
        object.field("role", message.role.rawValue)
        object.field("content", message.content)
        object.field("status", message.status.rawValue)
        if message.errorMessage != nil { object.field("error", visitorErrorText) }
        object.field("created_at", API.time(message.createdAt))
        if let feedback = message.feedback { object.field("rating", feedback.rating) }
        if let count = publicSources(of: message, into: &object) {
            object.field("unanswered", message.role == .assistant && count == 0)
        }
        return object.closed
    }

    /// An answer's `sources` (document names, pages, headings and passages; no ids) and `citations`, for readers
    /// outside the owner's account; the number of sources, or nil for a message without any.
    static func publicSources(of message: ParleyCore.Message, into object: inout JSONObjectText) -> Int? {
        guard let text = message.sources else { return nil }
        let sources = (try? JSONDecoder().decode([GroundingSource].self, from: Data(text.utf8))) ?? []
        let shown = sources.map { source in
            VisitorSource(n: source.n, documentName: source.documentName, page: source.page,
                          headingPath: source.headingPath, text: source.text)
        }
        object.field("sources", json: (try? JSONEncoder().encode(shown)).map { String(decoding: $0, as: UTF8.self) } ?? "[]")
        object.field("citations", json: "[" + GroundingSource.citations(in: message.content, count: sources.count)
            .map(String.init).joined(separator: ",") + "]")
        return sources.count
    }

    struct VisitorSource: Encodable {
        var n: Int
        var documentName: String
        var page: Int?
        var headingPath: [String]
        var text: String
        enum CodingKeys: String, CodingKey {
            case n, page, text
            case documentName = "document_name"
            case headingPath = "heading_path"
        }
    }
}
