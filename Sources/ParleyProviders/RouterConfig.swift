/// Which API an upstream speaks.
public enum ProviderKind: String, Sendable, CaseIterable {
    /// OpenAI's chat completions API: OpenAI, vLLM, llama.cpp server, LM Studio, LiteLLM, `parley mock-llm`.
    case openai
    /// Anthropic's Messages API, translated both ways.
    case anthropic
    /// Ollama, through its OpenAI-compatible `/v1` API (see ``UpstreamConfig/ollama(name:host:models:)``).
    case ollama
}

/// One configured upstream.
public struct UpstreamConfig: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var kind: ProviderKind
    /// API root: including `/v1` for OpenAI-compatible and Ollama upstreams, e.g. `https://api.anthropic.com`
    /// (or with `/v1`) for Anthropic.
    public var baseURL: String
    public var apiKey: String?
    /// Model names served (as clients name them); `nil` means ask the upstream for its list.
    public var models: [String]?
    /// Client-facing model name → the upstream's own name, where they differ.
    public var upstreamNames: [String: String]

    public init(name: String, baseURL: String, apiKey: String? = nil, models: [String]? = nil,
                kind: ProviderKind = .openai, upstreamNames: [String: String] = [:]) {
        self.name = name
        self.kind = kind
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.models = models
        self.upstreamNames = upstreamNames
    }

    /// Never shows the key.
    public var description: String {
        "\(name) (\(kind.rawValue), \(baseURL)\(apiKey == nil ? "" : ", key set")\(models.map { ", models: \($0.joined(separator: ","))" } ?? ""))"
    }
}

/// How the router retries, balances, falls back and breaks circuits.
public struct RouterSettings: Sendable, Equatable {
    /// Attempts per model (the first call and its retries) before falling back to the next model.
    public var maxAttempts = 3
    /// First retry's backoff; doubled per retry up to ``backoffCap``, each with random jitter (50–100 %).
    public var backoffBase: Duration = .milliseconds(200)
    public var backoffCap: Duration = .seconds(5)
    /// The longest `Retry-After` the router waits out; a longer one goes to a fallback or back to the client.
    public var maxRetryWait: Duration = .seconds(20)
    /// Failures in a row that open a deployment's circuit breaker.
    public var breakerThreshold = 5
    /// How long an open breaker turns its deployment away before letting one probe through.
    public var breakerCooldown: Duration = .seconds(30)
    /// Model aliases: a name clients use → the model it means.
    public var aliases: [String: String] = [:]
    /// Model → models to try, in order, when it cannot answer.
    public var fallbacks: [String: [String]] = [:]
    /// How long an upstream's own model list is kept.
    public var modelListTTL: Duration = .seconds(60)

    public init() {}
}
