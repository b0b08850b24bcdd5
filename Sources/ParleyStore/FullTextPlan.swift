/// How a knowledge base's full-text search asks its question so that the work is bounded by the question's rarer
/// words, not by the size of the base.
///
/// Ranking a passage (bm25 in SQLite, `ts_rank_cd` in PostgreSQL, with the base and access filters joined) costs far
/// more than finding it, and an any-word query ranks every passage that has any of the words. A question that keeps
/// one word most passages contain ("step", "git", "install") would rank the whole base to return fifty. So each word
/// is first counted, up to `commonAt` passages, which costs at most that many index entries and no ranking:
/// - words found in fewer passages (the *selective* ones) choose the candidates, rarest first;
/// - words found in `commonAt` passages or more (the *common* ones) only add to the candidates' scores;
/// - words found nowhere are left out.
/// When no word is selective, or the selective ones are in none of the bases searched, passages with all the common
/// words are asked for, and passages with any of them only when none has all.
///
/// No step ranks more than `rankedAtMost` passages: each step walks its matches newest first, with the base and access
/// filters joined, and ranks the first `rankedAtMost` that pass (all of them when there are fewer). In a base of a
/// million passages, a question of common words otherwise ranked tens of thousands.
public struct FullTextPlan: Sendable, Equatable {
    /// The number of passages from which a word no longer chooses candidates.
    public static let commonAt = 1_000
    /// The most passages one step ranks.
    public static let rankedAtMost = 1_000

    /// One query, in the order they are tried until one finds passages.
    public enum Step: Sendable, Equatable {
        /// Passages with any of the words, ranked by all of them.
        case anyOf([String])
        /// Passages with every one of the words.
        case allOf([String])
        /// Passages with any of the selective words, ranked by those and the common ones.
        case anyOfScored(selective: [String], common: [String])
    }

    public let steps: [Step]
    /// How many passages each word was found in, as counted (up to `commonAt`).
    private let counts: [String: Int]
    private let commonAt: Int

    /// The plan for `terms` given how many passages each was found in (`counts[i]` for `terms[i]`, counted up to
    /// `commonAt`).
    public init(terms: [String], counts: [Int], commonAt: Int = FullTextPlan.commonAt) {
        precondition(terms.count == counts.count, "one count per term")
        let found = zip(terms, counts).filter { $0.1 > 0 }
        self.counts = Dictionary(found, uniquingKeysWith: max)
        self.commonAt = commonAt
        // Rarest first; equal counts keep the question's order.
        let selective = found.enumerated().filter { $0.element.1 < commonAt }
            .sorted { ($0.element.1, $0.offset) < ($1.element.1, $1.offset) }.map(\.element.0)
        let common = found.filter { $0.1 >= commonAt }.map(\.0)
        // The common words are asked on their own only when the selective ones found nothing in the bases searched
        // (the counts are over every base).
        let byCommon: [Step] = common.isEmpty ? [] : common.count == 1 ? [.anyOf(common)] : [.allOf(common), .anyOf(common)]
        if selective.isEmpty {
            steps = byCommon
        } else {
            steps = [common.isEmpty ? .anyOf(selective) : .anyOfScored(selective: selective, common: common)] + byCommon
        }
    }

    /// The passage counts SQLite's `parley_bm25` weighs the step's words by, one per phrase of ``fts5(_:)`` in
    /// order: the counts made for the plan, so ranking walks no word's posting list. A common word's count stops at
    /// `commonAt`, so all common words weigh alike, as if in `commonAt` passages: less than any selective word, and
    /// more than bm25 would give the commonest of them.
    public func rankingCounts(_ step: Step) -> String {
        Self.phrases(step).map { String(min(counts[$0] ?? 0, commonAt)) }.joined(separator: ",")
    }

    /// The step's words in the order its query names them (a word named twice, twice).
    static func phrases(_ step: Step) -> [String] {
        switch step {
        case .anyOf(let words), .allOf(let words): return words
        case .anyOfScored(let selective, let common): return selective + selective + common
        }
    }

    /// The step as an FTS5 query: each word a quoted phrase (words are letters and digits only).
    public static func fts5(_ step: Step) -> String {
        written(step, word: { "\"\($0)\"" }, or: " OR ", and: " AND ")
    }

    /// The step as a PostgreSQL `to_tsquery` text.
    public static func tsquery(_ step: Step) -> String {
        written(step, word: { $0 }, or: " | ", and: " & ")
    }

    /// The step in a query syntax given by how it writes a word and its two operators.
    private static func written(_ step: Step, word: (String) -> String, or: String, and: String) -> String {
        func joined(_ words: [String], by operator: String) -> String { words.map(word).joined(separator: `operator`) }
        switch step {
        case .anyOf(let words): return joined(words, by: or)
        case .allOf(let words): return joined(words, by: and)
        // The common words are scored by being in the query; the candidates must still have a selective one, which
        // the second group repeats so that it is satisfied by those alone (bm25 counts the selective words twice).
        case .anyOfScored(let selective, let common):
            return "(" + joined(selective, by: or) + ")" + and + "(" + joined(selective + common, by: or) + ")"
        }
    }
}
