import Foundation
import ParleyCore
import ParleyRetrieval

extension API {
    /// An assistant as the API shows it.
    struct Assistant: Encodable {
        var id: String
        var name: String
        var description: String
        var systemPrompt: String?
        var model: String?
        var knowledgeBaseIDs: [String]
        /// True while anonymous visitors can chat with it at `public_path` (and through the widget).
        var published: Bool
        var publicPath: String?
        /// The sites whose pages may frame the visitors' page (the widget); empty: any site.
        var embedOrigins: [String]
        var parameters: ChatParameters
        /// How its chats search the knowledge bases.
        var retrieval: RetrievalSettings
        var createdAt: String
        var updatedAt: String
        enum CodingKeys: String, CodingKey {
            case id, name, description, model, published, parameters, retrieval
            case systemPrompt = "system_prompt"
            case knowledgeBaseIDs = "knowledge_base_ids"
            case publicPath = "public_path"
            case embedOrigins = "embed_origins"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }

        init(_ assistant: ParleyRetrieval.Assistant) {
            id = assistant.id.lowercased
            name = assistant.name
            description = assistant.description
            systemPrompt = assistant.systemPrompt
            model = assistant.model
            knowledgeBaseIDs = assistant.knowledgeBaseIDs.map(\.lowercased)
            published = assistant.publicSlug != nil
            publicPath = assistant.publicSlug.map { "/a/" + $0 }
            embedOrigins = assistant.embedOrigins
            parameters = assistant.parameters
            retrieval = assistant.retrieval
            createdAt = API.time(assistant.createdAt)
            updatedAt = API.time(assistant.updatedAt)
        }
    }

    struct AssistantList: Encodable {
        var data: [Assistant]
    }

    /// `POST /api/v1/assistants` and `PATCH /api/v1/assistants/{id}`: for a change, an absent field is left alone
    /// and `null` clears `system_prompt` or `model`.
    struct AssistantBody: Decodable {
        var name: String?
        var description: String?
        var systemPrompt: String??
        var model: String??
        var knowledgeBaseIDs: [String]?
        /// Publishes it for anonymous visitors (`true`) or withdraws it (`false`).
        var published: Bool?
        /// Replaces the sampling parameters its chats start with (`null` clears them).
        var parameters: ChatParametersBody??
        /// Replaces how its chats search the knowledge bases (`null` restores the server's defaults).
        var retrieval: RetrievalSettingsBody??
        /// Replaces the sites that may frame the visitors' page (`[]`: any site).
        var embedOrigins: [String]?
        enum CodingKeys: String, CodingKey {
            case name, description, model, published, parameters, retrieval
            case systemPrompt = "system_prompt"
            case knowledgeBaseIDs = "knowledge_base_ids"
            case embedOrigins = "embed_origins"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decodeIfPresent(String.self, forKey: .name)
            description = try container.decodeIfPresent(String.self, forKey: .description)
            knowledgeBaseIDs = try container.decodeIfPresent([String].self, forKey: .knowledgeBaseIDs)
            published = try container.decodeIfPresent(Bool.self, forKey: .published)
            embedOrigins = try container.decodeIfPresent([String].self, forKey: .embedOrigins)
            if container.contains(.parameters) {
                parameters = .some(try container.decodeIfPresent(ChatParametersBody.self, forKey: .parameters))
            }
            if container.contains(.retrieval) {
                retrieval = .some(try container.decodeIfPresent(RetrievalSettingsBody.self, forKey: .retrieval))
            }
            if container.contains(.model) { model = .some(try container.decodeIfPresent(String.self, forKey: .model)) }
            if container.contains(.systemPrompt) {
                systemPrompt = .some(try container.decodeIfPresent(String.self, forKey: .systemPrompt))
            }
        }
    }
}
