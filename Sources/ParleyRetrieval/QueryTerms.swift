/// The words of a question that full-text search looks for: lowercased letters and digits, without the most
/// common English words (which every passage has and which would make an any-word search match everything).
public enum QueryTerms {
    public static let maxTerms = 32
    public static let maxTermLength = 64

    public static func of(_ text: String) -> [String] {
        var seen = Set<String>()
        var terms: [String] = []
        for word in text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }) {
            let term = String(word.prefix(maxTermLength))
            guard !stopWords.contains(term), seen.insert(term).inserted else { continue }
            terms.append(term)
            if terms.count == maxTerms { break }
        }
        // A question of common words only is still asked.
        if terms.isEmpty {
            for word in text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }).prefix(maxTerms) {
                if seen.insert(String(word)).inserted { terms.append(String(word.prefix(maxTermLength))) }
            }
        }
        return terms
    }

    static let stopWords: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from", "how", "i", "if",
        "in", "into", "is", "it", "its", "me", "my", "of", "on", "or", "so", "than", "that", "the", "their", "them",
        "then", "there", "these", "they", "this", "to", "was", "we", "were", "what", "when", "where", "which", "who",
        "why", "will", "with", "you", "your",
    ]
}
