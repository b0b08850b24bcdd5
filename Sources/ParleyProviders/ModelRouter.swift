import AsyncHTTPClient
import Logging
import ParleyCore
import ParleyGateway
import Synchronization

/// One upstream serving one model: what the router balances over.
public struct Deployment: Sendable {
    /// `upstream/model`, as reported in the `x-parley-deployment` header.
    public var id: String { "\(upstream)/\(upstreamModel)" }
    public var upstream: String
    /// The model's name at the upstream.
    public var upstreamModel: String
    public var backend: any ModelBackend
}

/// A routed call's result and how it was reached.
public struct Routed<Value: Sendable>: Sendable {
    public var value: Value
    public var deployment: Deployment
    /// Calls made, the successful one included.
    public var attempts: Int
    /// The model that answered: the one asked for, or a fallback.
    public var model: String
}

/// Why a routed call gave up. Each carries the attempts made.
public struct RoutingFailure: Error, Sendable, CustomStringConvertible {
    public enum Reason: Sendable {
        /// No upstream serves the model.
        case unknownModel(String, available: [String])
        /// The last upstream error, when retries and fallbacks are used up (or it cannot be retried).
        case upstream(any Error)
        /// The request's deadline passed.
        case deadline(Duration, last: (any Error)?)
        /// Every deployment is turned away by its circuit breaker or a long `Retry-After` (`rateLimited`).
        case noDeployment(String, retryAfter: Duration?, rateLimited: Bool)
    }
    public var reason: Reason
    public var attempts: Int
    public var lastDeployment: String?

    public var description: String {
        switch reason {
        case .unknownModel(let model, let available):
            return "unknown model '\(model)'" + (available.isEmpty ? "" : "; available: \(available.prefix(20).joined(separator: ", "))")
        case .upstream(let error): return "\(error)"
        case .deadline(let limit, let last):
            return "no answer within the request's deadline of \(limit.roundedUpSeconds) s after \(attempts) attempt(s)"
                + (last.map { "; last error: \($0)" } ?? "")
        case .noDeployment(let model, let retryAfter, let rateLimited):
            let reason = rateLimited ? "its upstreams asked Parley to wait (rate limited)" : "its circuit breakers are open"
            return "no deployment of '\(model)' can answer now: \(reason)"
                + (retryAfter.map { "; retry in \($0.roundedUpSeconds) s" } ?? "")
        }
    }
}

/// The provider router: knows the models of every configured upstream, and sends each call to a healthy
/// deployment (least busy, then fastest), retrying with exponential backoff and jitter, waiting out
/// `Retry-After`, falling back to other models in the configured order, and breaking the circuit of a
/// deployment that keeps failing. One deadline covers the whole call with its retries.
///
/// The `/v1` API and the chat UI's generation jobs both call models through it.
public final class ModelRouter: ModelDirectory {
    struct Upstream: Sendable {
        var config: UpstreamConfig
        var backend: any ModelBackend
    }

    struct CachedList: Sendable {
        var models: [String]
        var fetchedAt: ContinuousClock.Instant
    }

    let upstreams: [Upstream]
    let settings: RouterSettings
    let timeouts: UpstreamTimeouts
    let configuredDefault: String?
    let logger: Logger
    let lists = Mutex<[String: CachedList]>([:])
    /// One list request per upstream at a time; concurrent callers wait for it.
    let listRequests = Mutex<[String: Task<[String], any Error>]>([:])
    let health = Mutex<[String: DeploymentHealth]>([:])

    /// A router over `upstreams` and Parley's own models (`local`: the built-in embedding model); with no
    /// upstreams, also over the built-in demo model.
    public convenience init(upstreams: [UpstreamConfig], settings: RouterSettings = RouterSettings(), defaultModel: String?,
                            client: HTTPClient, timeouts: UpstreamTimeouts, demo: DemoProvider = DemoProvider(),
                            local: [(UpstreamConfig, any ModelBackend)] = [], logger: Logger) {
        let built: [(UpstreamConfig, any ModelBackend)]
        if upstreams.isEmpty {
            built = [(UpstreamConfig(name: "demo", baseURL: "builtin:", models: [DemoProvider.modelName]), demo)]
        } else {
            built = upstreams.map { config in
                switch config.kind {
                case .openai, .ollama:
                    return (config, OpenAICompatibleProvider(baseURL: config.baseURL, apiKey: config.apiKey, client: client,
                                                             timeouts: timeouts, kind: config.kind.rawValue))
                case .anthropic:
                    return (config, AnthropicProvider(baseURL: config.baseURL, apiKey: config.apiKey, client: client))
                }
            }
        }
        self.init(backends: built + local, settings: settings, defaultModel: defaultModel, timeouts: timeouts, logger: logger)
    }

    /// A router over given backends (tests use this to put fakes in).
    public init(backends: [(UpstreamConfig, any ModelBackend)], settings: RouterSettings = RouterSettings(),
                defaultModel: String?, timeouts: UpstreamTimeouts, logger: Logger) {
        self.upstreams = backends.map { Upstream(config: $0.0, backend: $0.1) }
        self.settings = settings
        self.timeouts = timeouts
        self.configuredDefault = defaultModel
        self.logger = logger
    }

    /// Limits for a call that must be answered within `timeout` (the configured request timeout by default).
    public func limits(timeout: Duration? = nil) -> AttemptLimits {
        AttemptLimits(timeout: min(timeout ?? timeouts.total, timeouts.total), firstToken: timeouts.firstToken,
                      idle: timeouts.idle)
    }

    // MARK: ModelDirectory (the chat UI's path)

    public func defaultModel() async -> String? {
        if let configuredDefault { return configuredDefault }
        return await models().first { !$0.embeddingsOnly }?.id
    }

    public func resolve(_ model: String) async throws -> ResolvedModel {
        do {
            let deployments = try await deployments(for: model)
            guard deployments.contains(where: { $0.backend.chats }) else {
                throw ParleyError.invalid("'\(model)' is an embedding model; it cannot answer in a chat")
            }
        } catch let failure as RoutingFailure {
            throw ParleyError.invalid(failure.description)
        }
        return ResolvedModel(id: model, upstreamModel: model, provider: RoutedChatProvider(model: model) { body, _ in
            (try await self.routeStream(body, limits: self.limits()).value, nil)
        })
    }
}

/// The chat UI's provider for one model: every call goes through the router (and the response cache,
/// when ``GatewayCache`` resolved it).
struct RoutedChatProvider: ChatProvider {
    let model: String
    /// Opens the stream (the request's cache scope given); with it, `hit` or `miss` when the response cache was consulted.
    let open: @Sendable (ChatCompletionBody, _ cacheScope: String?) async throws -> (OpenedStream, cache: String?)

    func streamChat(_ request: ChatRequest, onDelta: @escaping @Sendable (AnswerDelta) -> Void) async throws
        -> ChatCompletionInfo
    {
        var named = request
        named.model = model
        let body = ChatCompletionBody(chat: named)
        do {
            let (opened, cache) = try await open(body, request.cacheScope)
            var info = try await ChatStreamReader.read(opened.stream, first: opened.first, onDelta: onDelta)
            info.cache = cache
            return info
        } catch let failure as RoutingFailure {
            switch failure.reason {
            case .upstream(let error): throw error
            case .unknownModel: throw ParleyError.invalid(failure.description)
            case .deadline(let limit, _): throw ProviderError.firstTokenTimeout(seconds: Double(limit.roundedUpSeconds))
            case .noDeployment(_, let retryAfter, let rateLimited):
                if rateLimited {
                    throw ProviderError.http(status: 429, message: failure.description, retryAfterSeconds: retryAfter?.secondsValue)
                }
                throw ProviderError.connect(failure.description)
            }
        }
    }
}
