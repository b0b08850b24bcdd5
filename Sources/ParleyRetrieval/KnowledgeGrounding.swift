import Foundation
import ParleyCore

/// One numbered source of a grounded answer, as stored on the message and shown as a citation.
public struct GroundingSource: Codable, Sendable, Equatable {
    /// Its number in the answer: `[1]` cites the first.
    public var n: Int
    public var passageID: Int64
    public var knowledgeBaseID: String
    public var documentID: String
    public var documentName: String
    public var page: Int?
    public var headingPath: [String]
    public var start: Int
    public var end: Int
    public var text: String
    public var score: Double
    /// A pinned document given whole (its text here is only the beginning); nil for a passage found by search.
    public var pinned: Bool? = nil

    enum CodingKeys: String, CodingKey {
        case n, page, start, end, text, score, pinned
        case passageID = "passage_id"
        case knowledgeBaseID = "knowledge_base_id"
        case documentID = "document_id"
        case documentName = "document_name"
        case headingPath = "heading_path"
    }
}

/// Grounds chat answers in the conversation's knowledge bases: gives the model the bases' pinned documents whole
/// (as far as the budget goes), retrieves passages for the question (read with the previous question when it is a
/// short follow-up), keeps the relevant ones that fit the budget, numbers them all, and tells the model to answer
/// from them and cite them — or to say the knowledge base does not answer when nothing relevant is found.
public struct KnowledgeGrounding: Grounding {
    let store: any KnowledgeStore
    let retriever: HybridRetriever
    /// Passages retrieved per question, unless the conversation's retrieval settings say otherwise.
    public var passages = 8
    /// A passage only the vector search found counts as relevant from this cosine similarity up, unless the
    /// conversation's retrieval settings say otherwise.
    public var minimumSimilarity = 0.3
    /// A question with fewer terms than this is read together with the one before it.
    static let followUpTerms = 6

    public init(store: any KnowledgeStore, retriever: HybridRetriever) {
        self.store = store
        self.retriever = retriever
    }

    public func ground(question: String, earlierQuestions: [String], knowledgeBaseIDs: [UUID], settings: RetrievalSettings,
                       owner: UserID, tokenBudget: Int) async throws -> GroundedSources? {
        var bases: [KnowledgeBase] = []
        for id in knowledgeBaseIDs {
            do {
                bases.append(try await store.knowledgeBase(id: id, reader: owner))
            } catch ParleyError.notFound {
                continue  // deleted, or no longer shared: the conversation goes on without it
            }
        }
        guard !bases.isEmpty else { return nil }
        var spent = TokenEstimator.tokens(in: Self.preamble)
        let pinned = try await store.pinnedPassages(baseIDs: bases.map(\.id), reader: owner,
                                                    limit: min(Self.maxPinnedPassages, max(1, tokenBudget / 8)))
        var (sources, blocks) = PinnedDocuments.sources(from: pinned, tokenBudget: tokenBudget, spent: &spent)
        let whole = Set(sources.filter { $0.end == PinnedDocuments.wholeEnd($0, in: pinned) }.map(\.documentID))
        let query = Self.retrievalQuery(question, earlier: earlierQuestions)
        let found = try await retriever.retrieve(query, bases: bases, reader: owner, limit: settings.passages ?? passages,
                                                 rerank: settings.rerank ?? true)
        let threshold = settings.minimumSimilarity ?? minimumSimilarity
        let relevant = found.passages.filter {
            ($0.textRank != nil || Double($0.similarity ?? 0) >= threshold) && !whole.contains($0.passage.documentID.lowercased)
        }
        for hit in relevant {
            let passage = hit.passage
            let source = GroundingSource(
                n: sources.count + 1, passageID: passage.id, knowledgeBaseID: passage.baseID.lowercased,
                documentID: passage.documentID.lowercased, documentName: passage.documentName, page: passage.page,
                headingPath: passage.headingPath, start: passage.start, end: passage.end, text: passage.text, score: hit.score)
            let block = Self.block(source)
            let cost = TokenEstimator.tokens(in: block)
            if spent + cost > tokenBudget { break }
            spent += cost
            sources.append(source)
            blocks.append(block)
        }
        let names = bases.map { "“\($0.name)”" }.joined(separator: ", ")
        let instructions = sources.isEmpty
            ? "The user's knowledge base (\(names)) has no passage about this question. Say that the knowledge base "
                + "does not answer it; do not make up an answer or sources."
            : Self.preamble + "\n\n" + blocks.joined(separator: "\n\n")
        let json = (try? JSONEncoder().encode(sources)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        return GroundedSources(instructions: instructions, sourcesJSON: json)
    }

    /// Passages of pinned documents read per turn, at most.
    static let maxPinnedPassages = 10_000

    static let preamble = """
        Answer the user's question from the numbered sources below, which come from the user's knowledge base. \
        Cite the source of each statement with its number in square brackets, like [1] or [2][3]. If the sources \
        do not contain the answer, say that the knowledge base does not answer it; do not make one up.
        """

    /// A source as the model reads it: number, where it is from, and its text.
    static func block(_ source: GroundingSource) -> String {
        var place = source.documentName
        if let page = source.page { place += ", page \(page)" }
        if !source.headingPath.isEmpty { place += ", " + source.headingPath.joined(separator: " › ") }
        return "[\(source.n)] \(place)\n\(source.text)"
    }

    /// The question, joined by the previous one when it is a short follow-up ("and the warranty?").
    static func retrievalQuery(_ question: String, earlier: [String]) -> String {
        guard let previous = earlier.first, QueryTerms.of(question).count < followUpTerms else { return question }
        return question + "\n" + previous
    }
}

extension GroundingSource {
    /// The source numbers an answer cites (`[n]`, each once, in order of first citation), among `count` sources.
    public static func citations(in answer: String, count: Int) -> [Int] {
        var cited: [Int] = []
        var rest = answer[...]
        while let open = rest.firstIndex(of: "[") {
            rest = rest[rest.index(after: open)...]
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 4, rest.dropFirst(digits.count).first == "]",
                  let number = Int(digits), (1...count).contains(number) else { continue }
            if !cited.contains(number) { cited.append(number) }
        }
        return cited
    }
}
