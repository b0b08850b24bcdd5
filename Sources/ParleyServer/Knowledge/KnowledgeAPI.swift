import Foundation
import ParleyCore
import ParleyRetrieval

/// The JSON shapes of the knowledge-base API.
extension API {
    struct KnowledgeBase: Encodable {
        var id: String
        var name: String
        var description: String
        var embeddingModel: String?
        var embeddingDimensions: Int?
        /// `hybrid` when its passages are embedded, else `full_text`.
        var search: String
        var owned: Bool
        var sharedWithEveryone: Bool
        /// Emails of the users it is shared with (only its owner sees them).
        var readers: [String]?
        var documentCount: Int
        var passageCount: Int
        /// A change of embedding model under way: the current model answers until it finishes.
        var reembedding: Reembedding?
        var createdAt: String
        var updatedAt: String
        enum CodingKeys: String, CodingKey {
            case id, name, description, search, owned, readers, reembedding
            case embeddingModel = "embedding_model"
            case embeddingDimensions = "embedding_dimensions"
            case sharedWithEveryone = "shared_with_everyone"
            case documentCount = "document_count"
            case passageCount = "passage_count"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }
        /// `hybrid` when its passages are embedded, else `full_text`.
        static func search(_ base: ParleyRetrieval.KnowledgeBase) -> String {
            base.embeddingModel != nil ? "hybrid" : "full_text"
        }

        init(_ base: ParleyRetrieval.KnowledgeBase, owned: Bool, readerEmails: [String]?) {
            id = base.id.lowercased
            name = base.name
            description = base.description
            embeddingModel = base.embeddingModel
            embeddingDimensions = base.embeddingDimensions
            search = Self.search(base)
            self.owned = owned
            sharedWithEveryone = base.sharedWithEveryone
            readers = owned ? readerEmails ?? [] : nil
            documentCount = base.documentCount
            passageCount = base.chunkCount
            reembedding = base.reembedding.map(Reembedding.init)
            createdAt = API.time(base.createdAt)
            updatedAt = API.time(base.updatedAt)
        }
    }

    /// A knowledge base's change of embedding model, with its progress.
    struct Reembedding: Encodable, Equatable {
        var model: String
        /// `queued`, `processing` or `failed` (then `error` says why; naming a model again starts over).
        var status: String
        var embedded: Int
        var total: Int
        var attempts: Int
        var error: String?

        init(_ reembedding: ParleyRetrieval.Reembedding) {
            model = reembedding.model
            status = reembedding.status.rawValue
            embedded = reembedding.embedded
            total = reembedding.total
            attempts = reembedding.attempts
            error = reembedding.error
        }
    }

    /// What the events stream of a base says about its embeddings (`event: embedding`).
    struct EmbeddingState: Encodable, Equatable {
        var embeddingModel: String?
        var embeddingDimensions: Int?
        var search: String
        var reembedding: Reembedding?
        enum CodingKeys: String, CodingKey {
            case search, reembedding
            case embeddingModel = "embedding_model"
            case embeddingDimensions = "embedding_dimensions"
        }

        init(_ base: ParleyRetrieval.KnowledgeBase) {
            embeddingModel = base.embeddingModel
            embeddingDimensions = base.embeddingDimensions
            search = KnowledgeBase.search(base)
            reembedding = base.reembedding.map(Reembedding.init)
        }
    }

    struct KnowledgeBaseList: Encodable {
        var data: [KnowledgeBase]
    }

    struct CreateKnowledgeBase: Decodable {
        var name: String
        var description: String?
        var embeddingModel: String?
        enum CodingKeys: String, CodingKey {
            case name, description
            case embeddingModel = "embedding_model"
        }
    }

    struct UpdateKnowledgeBase: Decodable {
        var name: String?
        var description: String?
        var sharedWithEveryone: Bool?
        /// Emails of the users who may read it; replaces the list.
        var readers: [String]?
        /// Absent: unchanged. A model: its passages are embedded again in the background. Null or "": full-text only.
        var embeddingModel: String??
        enum CodingKeys: String, CodingKey {
            case name, description, readers
            case sharedWithEveryone = "shared_with_everyone"
            case embeddingModel = "embedding_model"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decodeIfPresent(String.self, forKey: .name)
            description = try container.decodeIfPresent(String.self, forKey: .description)
            sharedWithEveryone = try container.decodeIfPresent(Bool.self, forKey: .sharedWithEveryone)
            readers = try container.decodeIfPresent([String].self, forKey: .readers)
            if container.contains(.embeddingModel) {
                let model = try container.decode(String?.self, forKey: .embeddingModel)
                embeddingModel = .some(model?.isEmpty == true ? nil : model)
            }
        }
    }

    struct Document: Encodable, Equatable {
        var id: String
        var knowledgeBaseID: String
        var name: String
        var kind: String?
        var bytes: Int
        var sha256: String
        var status: String
        var error: String?
        var passageCount: Int
        var attempts: Int
        /// Its whole text goes into the context of chats with the base attached.
        var pinned: Bool
        var createdAt: String
        var updatedAt: String
        enum CodingKeys: String, CodingKey {
            case id, name, kind, bytes, sha256, status, error, attempts, pinned
            case knowledgeBaseID = "knowledge_base_id"
            case passageCount = "passage_count"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }
        init(_ document: KnowledgeDocument) {
            id = document.id.lowercased
            knowledgeBaseID = document.baseID.lowercased
            name = document.name
            kind = document.kind
            bytes = document.byteCount
            sha256 = document.sha256
            status = document.status.rawValue
            error = document.error
            passageCount = document.chunkCount
            attempts = document.attempts
            pinned = document.pinned
            createdAt = API.time(document.createdAt)
            updatedAt = API.time(document.updatedAt)
        }
    }

    /// `PATCH …/documents/{document}`: what the owner may change on a document.
    struct DocumentPatch: Decodable {
        var pinned: Bool?
    }

    struct DocumentList: Encodable {
        var data: [Document]
    }

    struct AddedDocument: Encodable {
        var document: Document
        var duplicate: Bool
    }

    struct Passage: Encodable {
        var id: Int64
        var documentID: String
        var documentName: String
        var page: Int?
        var headingPath: [String]
        var start: Int
        var end: Int
        var text: String
        var score: Double?
        var textRank: Int?
        var vectorRank: Int?
        var similarity: Float?
        var rerankScore: Double?
        enum CodingKeys: String, CodingKey {
            case id, page, start, end, text, score, similarity
            case rerankScore = "rerank_score"
            case documentID = "document_id"
            case documentName = "document_name"
            case headingPath = "heading_path"
            case textRank = "text_rank"
            case vectorRank = "vector_rank"
        }
        init(_ passage: StoredPassage) {
            id = passage.id
            documentID = passage.documentID.lowercased
            documentName = passage.documentName
            page = passage.page
            headingPath = passage.headingPath
            start = passage.start
            end = passage.end
            text = passage.text
        }
        init(_ retrieved: RetrievedPassage) {
            self.init(retrieved.passage)
            score = retrieved.score
            textRank = retrieved.textRank
            vectorRank = retrieved.vectorRank
            similarity = retrieved.similarity
            rerankScore = retrieved.rerankScore
        }
    }

    struct PassageList: Encodable {
        var data: [Passage]
    }

    struct SearchKnowledge: Decodable {
        var query: String
        var limit: Int?
        /// False leaves out the configured reranker (to compare its order with the fused one).
        var rerank: Bool?
    }

    struct KnowledgeSearchResults: Encodable {
        var mode: String
        var note: String?
        /// The model that reordered the passages, when one did.
        var rerankedBy: String?
        var data: [Passage]
        enum CodingKeys: String, CodingKey {
            case mode, note, data
            case rerankedBy = "reranked_by"
        }
    }
}
