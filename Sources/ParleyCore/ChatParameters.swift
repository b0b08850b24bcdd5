import Foundation

/// How a model samples an answer, as a conversation or an assistant sets it and each answer records it: each
/// field unset leaves the upstream's default.
public struct ChatParameters: Sendable, Equatable, Codable {
    public var temperature: Double?
    public var topP: Double?
    /// At most this many output tokens (never more than the server's own limit).
    public var maxTokens: Int?
    public var seed: Int?
    public var stop: [String]?
    /// `minimal`, `low`, `medium` or `high`, for models that reason before answering.
    public var reasoningEffort: String?

    public static let reasoningEfforts = ["minimal", "low", "medium", "high"]

    enum CodingKeys: String, CodingKey {
        case temperature, seed, stop
        case topP = "top_p"
        case maxTokens = "max_tokens"
        case reasoningEffort = "reasoning_effort"
    }

    public init(temperature: Double? = nil, topP: Double? = nil, maxTokens: Int? = nil, seed: Int? = nil, stop: [String]? = nil,
                reasoningEffort: String? = nil) {
        self.temperature = temperature
        self.topP = topP
        self.maxTokens = maxTokens
        self.seed = seed
        self.stop = stop
        self.reasoningEffort = reasoningEffort
    }

    public var isEmpty: Bool { self == ChatParameters() }

    /// Asks for the same answer to the same request, so the response cache may serve it.
    public var isDeterministic: Bool { temperature == 0 || seed != nil }

    /// As stored in a text column: JSON, or nil when nothing is set.
    public var column: String? {
        guard !isEmpty, let data = try? JSONEncoder().encode(self) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// Read back from a column; what cannot be read counts as nothing set.
    public init(column: String?) {
        guard let column, let parsed = try? JSONDecoder().decode(ChatParameters.self, from: Data(column.utf8)) else {
            self.init()
            return
        }
        self = parsed
    }
}

extension ChatRequest {
    /// The request with `parameters` applied; the output limit stays within `maxOutputTokens` when one is set.
    /// A cached answer is served only within `cacheScope`.
    public func applying(_ parameters: ChatParameters, maxOutputTokens: Int?, cacheScope: String?) -> ChatRequest {
        var request = self
        request.cacheScope = cacheScope
        request.temperature = parameters.temperature
        request.topP = parameters.topP
        request.seed = parameters.seed
        request.stop = parameters.stop
        request.reasoningEffort = parameters.reasoningEffort
        if let wanted = parameters.maxTokens { request.maxTokens = maxOutputTokens.map { min($0, wanted) } ?? wanted }
        return request
    }
}
