import Foundation
import ParleyCore

extension API {
    struct NewShare: Decodable {
        var audience: String?
    }

    /// A shared link as its owner sees it; `url` and `token` only in the answer that made it (the store keeps a
    /// digest).
    struct Share: Encodable {
        var id: String
        var conversationID: String
        var audience: String
        /// The link shows the messages whose index is at most this (indexes count from 1).
        var throughIndex: Int
        var createdAt: String
        var token: String?
        var url: String?

        init(_ share: ConversationShare, token: String?) {
            id = share.id.lowercased
            conversationID = share.conversationID.lowercased
            audience = share.audience.rawValue
            throughIndex = share.throughIndex
            createdAt = API.time(share.createdAt)
            self.token = token
            url = token.map { "/s/" + $0 }
        }

        enum CodingKeys: String, CodingKey {
            case id, audience, token, url
            case conversationID = "conversation_id"
            case throughIndex = "through_index"
            case createdAt = "created_at"
        }
    }

    struct ShareList: Encodable {
        var data: [Share]
    }

    /// A message as a shared link shows it: its place, role, text, model, time, its attachments' names, and the
    /// sources and citations of an answer from knowledge bases (names and passages, no ids); not its id, usage,
    /// timings, rating, or the attachments themselves.
    static func sharedMessageJSON(_ message: ParleyCore.Message) -> String {
        var object = JSONObjectText()
        object.field("index", message.index)
        object.field("role", message.role.rawValue)
        object.field("content", message.content)
        object.field("status", message.status.rawValue)
        object.field("model", message.model)
        object.field("created_at", API.time(message.createdAt))
        if !message.attachments.isEmpty {
            // Their names only: the files stay their owner's.
            let names = message.attachments.map { attachment in
                var named = JSONObjectText()
                named.field("name", attachment.name)
                named.field("kind", attachment.kind.rawValue)
                return named.closed
            }
            object.field("attachments", json: "[" + names.joined(separator: ",") + "]")
        }
        _ = publicSources(of: message, into: &object)
        return object.closed
    }
}
