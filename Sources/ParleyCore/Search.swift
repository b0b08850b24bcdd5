import Foundation

/// The words of a search, cut from what a user typed: runs of letters and digits, lowercased, at most
/// ``maxTerms`` of at most ``maxTermLength`` characters. Everything else (quotes, operators, punctuation) is a
/// separator, so no input can be a syntax error in either database's search language. All terms must match;
/// the last one also matches as a prefix, so results follow typing.
public struct SearchTerms: Sendable, Equatable {
    public static let maxTerms = 8
    public static let maxTermLength = 64
    public let words: [String]

    /// Nil when the text holds no letter or digit.
    public init?(_ text: String) {
        let words = text.lowercased()
            .split { !($0.isLetter || $0.isNumber) }
            .prefix(Self.maxTerms)
            .map { String($0.prefix(Self.maxTermLength)) }
        guard !words.isEmpty else { return nil }
        self.words = words
    }
}

/// A conversation whose title matches a search.
public struct ConversationHit: Sendable, Equatable {
    public var conversation: Conversation
    /// Higher is better; comparable only within one result list.
    public var score: Double
    public init(conversation: Conversation, score: Double) {
        self.conversation = conversation
        self.score = score
    }
}

/// A finished message whose text matches a search.
public struct MessageHit: Sendable, Equatable {
    public var messageID: UUID
    public var conversationID: UUID
    public var conversationTitle: String
    public var index: Int
    public var role: Role
    public var createdAt: Date
    /// A short passage of the message around the first matching word.
    public var snippet: String
    /// Higher is better; comparable only within one result list.
    public var score: Double

    public init(messageID: UUID, conversationID: UUID, conversationTitle: String, index: Int, role: Role,
                createdAt: Date, snippet: String, score: Double) {
        self.messageID = messageID
        self.conversationID = conversationID
        self.conversationTitle = conversationTitle
        self.index = index
        self.role = role
        self.createdAt = createdAt
        self.snippet = snippet
        self.score = score
    }
}

/// One page of ranked search results: conversation titles and message texts, best first.
public struct SearchResults: Sendable {
    public var conversations: [ConversationHit]
    public var messages: [MessageHit]
    /// True when either list has more results after this page.
    public var hasMore: Bool
    public init(conversations: [ConversationHit], messages: [MessageHit], hasMore: Bool) {
        self.conversations = conversations
        self.messages = messages
        self.hasMore = hasMore
    }
}

/// Cuts the passage shown for a matching message, the same way for every store.
public enum SearchSnippet {
    /// About `length` characters around the first occurrence of any of the words, on word boundaries, with
    /// "…" where text was cut; the start of the text when no word occurs literally (the index matched a
    /// variant, such as an accented form).
    public static func make(from text: String, words: [String], length: Int = 160) -> String {
        let first = words.compactMap { text.range(of: $0, options: [.caseInsensitive, .diacriticInsensitive]) }
            .min { $0.lowerBound < $1.lowerBound }
        let anchor = first?.lowerBound ?? text.startIndex
        var start = text.index(anchor, offsetBy: -length / 3, limitedBy: text.startIndex) ?? text.startIndex
        if start != text.startIndex {
            // Begin at a word.
            if let space = text[start..<anchor].firstIndex(where: \.isWhitespace) { start = text.index(after: space) }
        }
        var end = text.index(start, offsetBy: length, limitedBy: text.endIndex) ?? text.endIndex
        if end != text.endIndex, let space = text[start..<end].lastIndex(where: \.isWhitespace), space > anchor {
            end = space
        }
        let passage = text[start..<end].split(whereSeparator: \.isNewline).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
        return (start == text.startIndex ? "" : "…") + passage + (end == text.endIndex ? "" : "…")
    }
}
