import Foundation

/// How the mock answers one request: its defaults, overridden per request by `mock:KEY=VALUE` words in the
/// last user message (so tests can steer it through Parley) or by `x-mock-KEY` headers.
///
/// Keys: `tokens` (reply length), `delay_ms` (pause between tokens), `ttft_ms` (pause before the first
/// token), `fault` (`500`, `429`, `400`, `cut`, `slow`, `hang`, `garbage`), `retry_after` (seconds, for 429),
/// `echo` (`1` starts the reply with the user's text, `system` with the system prompt's, `params` with the
/// sampling parameters received, as sorted JSON, `context` with every message received as `role: text` lines), `fault_times` (the fault hits only the first N requests
/// with the same prompt, then they succeed: "500 then success"), `reasoning` (that many pieces of reasoning,
/// streamed as `reasoning_content` before the answer, as vLLM and DeepSeek do).
public struct MockScript: Sendable, Equatable {
    public enum Fault: String, Sendable {
        /// HTTP 500 with an OpenAI-shaped error.
        case serverError = "500"
        /// HTTP 429 with `Retry-After`.
        case rateLimited = "429"
        /// HTTP 400, as for a bad parameter.
        case badRequest = "400"
        /// Half the tokens, then the connection is dropped without `[DONE]`.
        case cut
        /// The first token comes after 30 s (or `ttft_ms`).
        case slow
        /// One token, then silence until the client gives up.
        case hang
        /// A stream event that is not JSON.
        case garbage
    }

    public var tokens: Int
    public var tokenDelayMs: Int
    public var firstTokenDelayMs: Int
    public var fault: Fault?
    public var retryAfterSeconds: Int = 1
    /// How many requests with the same prompt get the fault; `nil`: all of them.
    public var faultTimes: Int?
    public var echo = false
    /// The reply starts with the system prompt (what Parley put in the context) instead of the user's text.
    public var echoSystem = false
    /// The reply starts with the request's sampling parameters (temperature, top_p, seed, stop, …) as JSON.
    public var echoParameters = false
    /// The reply starts with every message of the request, one `role: text` line each.
    public var echoContext = false
    /// Pieces of reasoning streamed before the answer.
    public var reasoningTokens = 0

    public init(tokens: Int = 20, tokenDelayMs: Int = 0, firstTokenDelayMs: Int = 0, fault: Fault? = nil) {
        self.tokens = tokens
        self.tokenDelayMs = tokenDelayMs
        self.firstTokenDelayMs = firstTokenDelayMs
        self.fault = fault
    }

    /// Applies `key=value` overrides; unknown keys and bad values are ignored.
    public mutating func apply(_ key: String, _ value: String) {
        switch key.lowercased().replacingOccurrences(of: "-", with: "_") {
        case "tokens": if let number = Int(value), number >= 0 { tokens = min(number, 100_000) }
        case "delay_ms": if let number = Int(value), number >= 0 { tokenDelayMs = number }
        case "ttft_ms": if let number = Int(value), number >= 0 { firstTokenDelayMs = number }
        case "fault": fault = Fault(rawValue: value.lowercased())
        case "retry_after": if let number = Int(value), number >= 0 { retryAfterSeconds = number }
        case "echo":
            echo = value == "1" || value == "true" || value == "system"
            echoSystem = value == "system"
            echoParameters = value == "params"
            echoContext = value == "context"
        case "fault_times": if let number = Int(value), number >= 0 { faultTimes = number }
        case "reasoning": if let number = Int(value), number >= 0 { reasoningTokens = min(number, 10_000) }
        default: break
        }
    }

    /// Applies every `mock:key=value` word of `text`.
    public mutating func apply(directivesIn text: String) {
        for word in text.split(whereSeparator: { $0.isWhitespace }) where word.hasPrefix("mock:") {
            let pair = word.dropFirst(5).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { apply(String(pair[0]), String(pair[1])) }
        }
    }

    static let words = ["Lorem", "ipsum", "dolor", "sit", "amet,", "consectetur", "adipiscing", "elit."]

    /// The reasoning's pieces; joined they are the whole reasoning.
    public static func reasoningTokens(count: Int) -> [String] {
        (0..<count).map { $0 == 0 ? "Thinking step 1." : " Thinking step \($0 + 1)." }
    }

    /// The reply's tokens; joined they are the whole answer.
    public static func replyTokens(count: Int, echoing prompt: String? = nil) -> [String] {
        var tokens: [String] = []
        tokens.reserveCapacity(count)
        if let prompt {
            // Each word with the whitespace before it, so echoed line breaks (markdown) survive.
            var spacing = Substring()
            var rest = prompt[...]
            while !rest.isEmpty, tokens.count < count {
                let word = rest.drop(while: \.isWhitespace)
                spacing = spacing.isEmpty ? rest[rest.startIndex..<word.startIndex] : spacing
                let end = word.firstIndex(where: \.isWhitespace) ?? word.endIndex
                rest = word[end...]
                guard !word.isEmpty, !word.hasPrefix("mock:") else { continue }
                tokens.append((tokens.isEmpty ? "" : String(spacing)) + word[..<end])
                spacing = Substring()
            }
        }
        while tokens.count < count {
            let word = words[tokens.count % words.count]
            tokens.append(tokens.isEmpty ? word : " " + word)
        }
        return tokens
    }
}
