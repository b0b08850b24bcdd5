import Logging
import ParleyCore
import Synchronization

/// Which models exist and where: configured lists, or the upstreams' own lists, kept for
/// ``RouterSettings/modelListTTL``. A model name no list contains goes to the first upstream whose list is
/// unknown (it could not be fetched), so a flaky `/models` endpoint never blocks chatting; when every list is
/// known, such a name is an unknown model.
extension ModelRouter {
    public func models() async -> [ModelInfo] {
        var seen = Set<String>()
        var result: [ModelInfo] = []
        for upstream in upstreams {
            for model in await modelList(of: upstream) ?? [] where seen.insert(model).inserted {
                result.append(ModelInfo(id: model, upstream: upstream.config.name, embeddingsOnly: !upstream.backend.chats))
            }
        }
        for (alias, target) in settings.aliases.sorted(by: { $0.key < $1.key }) where seen.insert(alias).inserted {
            if let served = result.first(where: { $0.id == target }) {
                result.append(ModelInfo(id: alias, upstream: served.upstream, embeddingsOnly: served.embeddingsOnly))
            }
        }
        return result
    }

    /// The deployments serving `model` (after aliases); throws ``RoutingFailure`` for a model nobody serves.
    public func deployments(for model: String) async throws -> [Deployment] {
        let name = settings.aliases[model] ?? model
        var found: [Deployment] = []
        var firstUnknown: Upstream?
        for upstream in upstreams {
            guard let list = await modelList(of: upstream) else {
                if firstUnknown == nil { firstUnknown = upstream }
                continue
            }
            if list.contains(name) {
                found.append(Deployment(upstream: upstream.config.name,
                                        upstreamModel: upstream.config.upstreamNames[name] ?? name,
                                        backend: upstream.backend))
            }
        }
        if found.isEmpty, let firstUnknown {
            found.append(Deployment(upstream: firstUnknown.config.name, upstreamModel: name, backend: firstUnknown.backend))
        }
        guard !found.isEmpty else {
            throw RoutingFailure(reason: .unknownModel(model, available: await models().map(\.id)), attempts: 0)
        }
        return found
    }

    /// The upstream's models: configured, cached, or fetched now. `nil` when it cannot be known.
    func modelList(of upstream: Upstream) async -> [String]? {
        if let configured = upstream.config.models { return configured }
        let now = ContinuousClock.now
        let name = upstream.config.name
        if let cached = lists.withLock({ $0[name] }), now - cached.fetchedAt < settings.modelListTTL {
            return cached.models
        }
        let limits = AttemptLimits(timeout: min(timeouts.firstToken, .seconds(10)), firstToken: timeouts.firstToken,
                                   idle: timeouts.idle)
        let task = listRequests.withLock { running -> Task<[String], any Error> in
            if let task = running[name] { return task }
            let task = Task { try await upstream.backend.listModels(limits: limits) }
            running[name] = task
            return task
        }
        do {
            let models = try await task.value
            lists.withLock { $0[name] = CachedList(models: models, fetchedAt: now) }
            listRequests.withLock { _ = $0.removeValue(forKey: name) }
            return models
        } catch {
            listRequests.withLock { _ = $0.removeValue(forKey: name) }
            logger.warning("could not list the models of an upstream", metadata: ["upstream": "\(name)", "error": "\(error)"])
            // Keep serving the last known list, but ask again on the next call.
            return lists.withLock { $0[name]?.models }
        }
    }
}
