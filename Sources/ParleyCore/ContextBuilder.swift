/// Approximates token counts without a tokenizer.
///
/// A token is counted as four bytes of UTF-8, rounded up, plus four tokens of framing per message.
/// For English text with OpenAI-style tokenizers this overestimates slightly, which is the safe side
/// for a budget. Dense scripts (CJK, emoji) take 3–4 bytes per character and come out at roughly one
/// token per character, close to real tokenizers.
public enum TokenEstimator {
    public static let perMessageOverhead = 4
    /// What an image is counted as: about what OpenAI charges for a 1024-pixel image in high detail (765) and
    /// Anthropic for one of 1.1 megapixels (1,500), between the two.
    public static let imageTokens = 1_100

    public static func tokens(in text: String) -> Int {
        (text.utf8.count + 3) / 4
    }

    public static func tokens(in message: ChatMessage) -> Int {
        tokens(in: message.content) + perMessageOverhead + message.attachments.reduce(0) { $0 + $1.tokens }
            + message.images.count * imageTokens
    }
}

/// Picks the context sent upstream: the system prompt always, then as many of the newest messages as fit
/// in the token budget, in chronological order. The newest message is always kept, even alone over budget,
/// so the model sees what it is answering.
public struct ContextBuilder: Sendable {
    public var tokenBudget: Int

    public init(tokenBudget: Int) {
        self.tokenBudget = tokenBudget
    }

    /// Builds incrementally from history given newest first; call ``offer(_:)`` until it returns false.
    public struct Accumulator: Sendable {
        fileprivate var remaining: Int
        /// Tokens of the budget not yet spent.
        public var remainingTokens: Int { remaining }
        fileprivate var newestFirst: [ChatMessage] = []
        fileprivate let system: ChatMessage?
        public private(set) var isFull = false

        /// Adds a message older than all offered so far; returns false once the budget is spent.
        public mutating func offer(_ message: ChatMessage) -> Bool {
            guard !isFull else { return false }
            let cost = TokenEstimator.tokens(in: message)
            if cost > remaining && !newestFirst.isEmpty {
                isFull = true
                return false
            }
            remaining -= cost
            newestFirst.append(message)
            return true
        }

        /// The messages to send, oldest first, system prompt first.
        public var messages: [ChatMessage] {
            var result: [ChatMessage] = []
            result.reserveCapacity(newestFirst.count + 1)
            if let system { result.append(system) }
            result.append(contentsOf: newestFirst.reversed())
            return result
        }
    }

    public func start(systemPrompt: String?) -> Accumulator {
        // Blank is checked scalar by scalar (a grounded prompt holds its sources: Foundation's trimming copied all of
        // it through UTF-16 to find its first letter).
        let system = systemPrompt.flatMap { prompt in
            prompt.unicodeScalars.allSatisfy(\.properties.isWhitespace) ? nil : ChatMessage(role: .system, content: prompt)
        }
        let systemCost = system.map(TokenEstimator.tokens(in:)) ?? 0
        return Accumulator(remaining: tokenBudget - systemCost, system: system)
    }

    /// Builds the context from a whole history given oldest first (convenient for small histories and tests).
    public func build(systemPrompt: String?, history: [ChatMessage]) -> [ChatMessage] {
        var accumulator = start(systemPrompt: systemPrompt)
        for message in history.reversed() where !accumulator.offer(message) { break }
        return accumulator.messages
    }
}
