import Foundation

/// One message as sent to a model.
public struct ChatMessage: Sendable, Equatable, Codable {
    public var role: Role
    public var content: String
    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }
}

/// A chat completion request in provider-neutral form.
public struct ChatRequest: Sendable, Equatable {
    /// The model name as the upstream knows it.
    public var model: String
    public var messages: [ChatMessage]
    public var maxTokens: Int?
    public var temperature: Double?
    public init(model: String, messages: [ChatMessage], maxTokens: Int? = nil, temperature: Double? = nil) {
        self.model = model
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
    }
}

/// Token counts reported by an upstream.
public struct TokenUsage: Sendable, Equatable, Codable {
    /// Counts come from upstreams, which are not trusted to be sane: each is kept within this range, so sums
    /// and budgets computed from them cannot overflow.
    public static let countRange = 0...CheckedNumber.wholeLimit

    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int { promptTokens + completionTokens }
    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = CheckedNumber.clamped(promptTokens, to: Self.countRange)
        self.completionTokens = CheckedNumber.clamped(completionTokens, to: Self.countRange)
    }

    private enum CodingKeys: String, CodingKey { case promptTokens, completionTokens }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(promptTokens: try container.decode(Int.self, forKey: .promptTokens),
                  completionTokens: try container.decode(Int.self, forKey: .completionTokens))
    }
}

/// What a finished streaming call reports besides its text.
public struct ChatCompletionInfo: Sendable, Equatable {
    public var usage: TokenUsage?
    public var finishReason: String?
    public init(usage: TokenUsage? = nil, finishReason: String? = nil) {
        self.usage = usage
        self.finishReason = finishReason
    }
}

/// A model provider that streams chat completions.
public protocol ChatProvider: Sendable {
    /// Streams one completion, calling `onDelta` with each piece of text in order, and returns once the
    /// upstream has finished. Throws ``ProviderError`` for upstream failures; honours task cancellation.
    func streamChat(_ request: ChatRequest, onDelta: @escaping @Sendable (String) -> Void) async throws
        -> ChatCompletionInfo
}

/// Why an upstream call failed. Each case reads as a sentence a user can act on.
public enum ProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The upstream answered with an HTTP error status.
    case http(status: Int, message: String, retryAfterSeconds: Double?)
    /// No connection could be made.
    case connect(String)
    /// The upstream sent nothing within the first-token timeout.
    case firstTokenTimeout(seconds: Double)
    /// The upstream went quiet mid-stream for longer than the idle timeout.
    case idleTimeout(seconds: Double)
    /// The stream ended before the upstream said it was done.
    case streamCut(String)
    /// The upstream sent something that is not a valid response.
    case invalidResponse(String)

    public var description: String {
        switch self {
        case .http(let status, let message, let retryAfter):
            var text = "upstream returned HTTP \(status)"
            if !message.isEmpty { text += ": \(message)" }
            if let retryAfter { text += " (retry after \(Self.format(retryAfter)) s)" }
            return text
        case .connect(let detail): return "could not reach the upstream: \(detail)"
        case .firstTokenTimeout(let seconds):
            return "the upstream sent no response within \(Self.format(seconds)) s"
        case .idleTimeout(let seconds):
            return "the upstream stopped sending for more than \(Self.format(seconds)) s"
        case .streamCut(let detail): return "the upstream stream ended early: \(detail)"
        case .invalidResponse(let detail): return "the upstream sent an invalid response: \(detail)"
        }
    }

    /// A short machine-readable kind for error events.
    public var kind: String {
        switch self {
        case .http(let status, _, _): return status == 429 ? "upstream_rate_limited" : "upstream_http_error"
        case .connect: return "upstream_unreachable"
        case .firstTokenTimeout, .idleTimeout: return "upstream_timeout"
        case .streamCut: return "upstream_stream_cut"
        case .invalidResponse: return "upstream_invalid_response"
        }
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.2f", seconds)
    }
}

/// A model a user can pick.
public struct ModelInfo: Sendable, Equatable {
    public var id: String
    /// The configured upstream that serves it.
    public var upstream: String
    public init(id: String, upstream: String) {
        self.id = id
        self.upstream = upstream
    }
}

/// A model resolved to the provider that serves it.
public struct ResolvedModel: Sendable {
    public var id: String
    public var upstreamModel: String
    public var provider: any ChatProvider
    public init(id: String, upstreamModel: String, provider: any ChatProvider) {
        self.id = id
        self.upstreamModel = upstreamModel
        self.provider = provider
    }
}

/// Knows which models exist and which provider serves each.
public protocol ModelDirectory: Sendable {
    func models() async -> [ModelInfo]
    /// The model used when neither the message nor the conversation names one.
    func defaultModel() async -> String?
    /// Throws ``ParleyError/invalid(_:)`` for a model no upstream serves.
    func resolve(_ model: String) async throws -> ResolvedModel
}
