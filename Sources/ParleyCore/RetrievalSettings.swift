import Foundation

/// How a conversation's (or an assistant's) answers use its knowledge bases: each field unset leaves the server's
/// default. Stored beside the knowledge bases it applies to and read with each turn.
public struct RetrievalSettings: Sendable, Equatable, Codable {
    /// Passages retrieved per question (within ``passageRange``).
    public var passages: Int?
    /// The cosine similarity from which a passage that only the vector search found counts as relevant (0 to 1);
    /// a passage the full-text search also found always counts.
    public var minimumSimilarity: Double?
    /// Whether the passages are reordered by the configured reranker; false skips it (faster, and no call upstream).
    public var rerank: Bool?

    /// The passages a turn may ask for.
    public static let passageRange = 1...50

    enum CodingKeys: String, CodingKey {
        case passages, rerank
        case minimumSimilarity = "min_similarity"
    }

    public init(passages: Int? = nil, minimumSimilarity: Double? = nil, rerank: Bool? = nil) {
        self.passages = passages
        self.minimumSimilarity = minimumSimilarity
        self.rerank = rerank
    }

    public var isEmpty: Bool { self == RetrievalSettings() }

    /// As stored in a text column: JSON, or nil when nothing is set.
    public var column: String? {
        guard !isEmpty, let data = try? JSONEncoder().encode(self) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// Read back from a column; what cannot be read counts as nothing set.
    public init(column: String?) {
        guard let column, let parsed = try? JSONDecoder().decode(RetrievalSettings.self, from: Data(column.utf8)) else {
            self.init()
            return
        }
        self = parsed
    }
}
