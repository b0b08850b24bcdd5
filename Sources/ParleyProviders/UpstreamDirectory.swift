import AsyncHTTPClient
import Foundation
import Logging
import ParleyCore
import Synchronization

/// One configured OpenAI-compatible upstream.
public struct UpstreamConfig: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    /// API root including `/v1`.
    public var baseURL: String
    public var apiKey: String?
    /// Models served; `nil` means ask the upstream (`GET /models`).
    public var models: [String]?

    public init(name: String, baseURL: String, apiKey: String? = nil, models: [String]? = nil) {
        self.name = name
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.models = models
    }

    /// Never shows the key.
    public var description: String {
        "\(name) (\(baseURL)\(apiKey == nil ? "" : ", key set")\(models.map { ", models: \($0.joined(separator: ","))" } ?? ""))"
    }
}

/// The models of the configured upstreams, or the demo model when none is configured.
///
/// An upstream without a configured model list is asked for one, and the answer is kept for `listTTL`.
/// A model name no list contains goes to the first upstream whose list is unknown (it could not be
/// fetched), so a flaky `/models` endpoint never blocks chatting; when every list is known, such a name
/// is an invalid request that names the models available.
public final class UpstreamDirectory: ModelDirectory {
    private struct Upstream: Sendable {
        var config: UpstreamConfig
        var provider: OpenAICompatibleProvider
    }

    private struct CachedList: Sendable {
        var models: [String]
        var fetchedAt: ContinuousClock.Instant
    }

    private let upstreams: [Upstream]
    private let demo: DemoProvider?
    private let configuredDefault: String?
    private let listTTL: Duration
    private let logger: Logger
    private let cache = Mutex<[String: CachedList]>([:])
    /// One list request per upstream at a time; concurrent callers wait for it.
    private let inFlight = Mutex<[String: Task<[String], any Error>]>([:])

    public init(upstreams: [UpstreamConfig], defaultModel: String?, client: HTTPClient, timeouts: UpstreamTimeouts,
                demo: DemoProvider = DemoProvider(), listTTL: Duration = .seconds(60), logger: Logger) {
        self.upstreams = upstreams.map {
            Upstream(config: $0, provider: OpenAICompatibleProvider(baseURL: $0.baseURL, apiKey: $0.apiKey,
                                                                    client: client, timeouts: timeouts))
        }
        self.demo = upstreams.isEmpty ? demo : nil
        self.configuredDefault = defaultModel
        self.listTTL = listTTL
        self.logger = logger
    }

    public func models() async -> [ModelInfo] {
        if demo != nil { return [ModelInfo(id: DemoProvider.modelName, upstream: "demo")] }
        var seen = Set<String>()
        var result: [ModelInfo] = []
        for upstream in upstreams {
            for model in await modelList(of: upstream) ?? [] where seen.insert(model).inserted {
                result.append(ModelInfo(id: model, upstream: upstream.config.name))
            }
        }
        return result
    }

    public func defaultModel() async -> String? {
        if demo != nil { return DemoProvider.modelName }
        if let configuredDefault { return configuredDefault }
        return await models().first?.id
    }

    public func resolve(_ model: String) async throws -> ResolvedModel {
        if let demo {
            guard model == DemoProvider.modelName else {
                throw ParleyError.invalid("unknown model '\(model)': no upstream is configured, only 'demo' exists")
            }
            return ResolvedModel(id: model, upstreamModel: model, provider: demo)
        }
        var firstUnknown: Upstream?
        for upstream in upstreams {
            guard let list = await modelList(of: upstream) else {
                if firstUnknown == nil { firstUnknown = upstream }
                continue
            }
            if list.contains(model) {
                return ResolvedModel(id: model, upstreamModel: model, provider: upstream.provider)
            }
        }
        if let firstUnknown {
            return ResolvedModel(id: model, upstreamModel: model, provider: firstUnknown.provider)
        }
        let available = await models().map(\.id).prefix(20).joined(separator: ", ")
        throw ParleyError.invalid("unknown model '\(model)'; available: \(available)")
    }

    /// The upstream's models: configured, cached, or fetched now. `nil` when it cannot be known.
    private func modelList(of upstream: Upstream) async -> [String]? {
        if let configured = upstream.config.models { return configured }
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[upstream.config.name] }), now - cached.fetchedAt < listTTL {
            return cached.models
        }
        let name = upstream.config.name
        let task = inFlight.withLock { running -> Task<[String], any Error> in
            if let task = running[name] { return task }
            let task = Task { try await upstream.provider.listModels() }
            running[name] = task
            return task
        }
        do {
            let models = try await task.value
            cache.withLock { $0[name] = CachedList(models: models, fetchedAt: now) }
            inFlight.withLock { _ = $0.removeValue(forKey: name) }
            return models
        } catch {
            inFlight.withLock { _ = $0.removeValue(forKey: name) }
            logger.warning("could not list the models of an upstream",
                           metadata: ["upstream": "\(upstream.config.name)", "error": "\(error)"])
            // Keep serving the last known list, but ask again on the next call.
            return cache.withLock { $0[upstream.config.name]?.models }
        }
    }
}
