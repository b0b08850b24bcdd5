/// How a conversation's knowledge bases are searched, as the command line sets it (`--passages`,
/// `--min-similarity`, `--no-rerank`); what is not given stays as the server has it. The server checks the values.
public struct RetrievalChoice: Encodable, Sendable, Equatable {
    public var passages: Int?
    public var minimumSimilarity: Double?
    public var rerank: Bool?

    public init(passages: Int? = nil, minimumSimilarity: Double? = nil, rerank: Bool? = nil) {
        self.passages = passages
        self.minimumSimilarity = minimumSimilarity
        self.rerank = rerank
    }

    /// Nothing chosen: the conversation's settings are left alone.
    public var isEmpty: Bool { passages == nil && minimumSimilarity == nil && rerank == nil }

    enum CodingKeys: String, CodingKey {
        case passages, rerank
        case minimumSimilarity = "min_similarity"
    }
}
