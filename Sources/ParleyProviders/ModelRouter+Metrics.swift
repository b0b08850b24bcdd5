import CoreMetrics
import ParleyCore
import ParleyGateway
import Synchronization

/// What the router tells the metrics: each attempt's outcome by deployment, answers a fallback gave, and — when
/// `/metrics` is read — each deployment's breaker and calls in flight. Model and deployment labels are names the
/// configuration or an upstream's own list gave; anything else a client asked for is `other`.
extension ModelRouter {
    /// `model` when a configured or listed model (or an alias) has that name, else `other`.
    public func metricLabel(model: String) -> String {
        if settings.aliases[model] != nil { return model }
        for upstream in upstreams where knownModels(of: upstream)?.contains(model) == true { return model }
        return "other"
    }

    func metricLabel(_ deployment: Deployment) -> String {
        guard let upstream = upstreams.first(where: { $0.config.name == deployment.upstream }) else { return "other" }
        let served = upstream.config.models.map { models in
            models.contains { (upstream.config.upstreamNames[$0] ?? $0) == deployment.upstreamModel }
        } ?? knownModels(of: upstream)?.contains(deployment.upstreamModel) == true
        return served ? deployment.id : "\(deployment.upstream)/other"
    }

    /// The upstream's configured list, or the one last fetched; never fetches.
    private func knownModels(of upstream: Upstream) -> [String]? {
        upstream.config.models ?? lists.withLock { $0[upstream.config.name]?.models }
    }

    static let attempts = MetricFamily(counter: MetricName.upstreamAttempts, labels: ["deployment", "outcome"])
    static let fallbacks = MetricFamily(counter: MetricName.upstreamFallbacks, labels: ["model", "fallback"])
    static let breakers = MetricFamily(gauge: MetricName.breakerState, labels: ["deployment"])
    static let inFlight = MetricFamily(gauge: MetricName.upstreamInFlight, labels: ["deployment"])

    func recordAttempt(_ deployment: Deployment, failure: (any Error)?) {
        Self.attempts(metricLabel(deployment), failure.map(Self.attemptOutcome) ?? "ok").increment()
    }

    func recordFallback(asked model: String, answered fallback: String) {
        Self.fallbacks(metricLabel(model: model), metricLabel(model: fallback)).increment()
    }

    static func attemptOutcome(_ error: any Error) -> String {
        switch error {
        case let error as ProviderError:
            switch error {
            case .http(429, _, _): "rate_limited"
            case .http(let status, _, _): MetricName.statusClass(status)
            case .connect: "unreachable"
            case .firstTokenTimeout, .idleTimeout: "timeout"
            case .streamCut: "stream_cut"
            case .invalidResponse: "invalid_response"
            }
        case is InvalidGatewayRequest: "invalid_request"
        default: "other"
        }
    }

    /// Sets the breaker and in-flight gauges of every deployment called so far (read when `/metrics` is).
    public func sampleMetrics() {
        let now = ContinuousClock.now
        let states = health.withLock { health in
            health.map { id, state -> (String, Int, Int) in
                let breaker = switch state.breaker {
                case .closed: 0
                case .halfOpen: 1
                case .open(let until): now < until ? 2 : 1
                }
                return (id, breaker, state.inFlight)
            }
        }
        for (id, breaker, inFlight) in states {
            guard let deployment = deployment(id: id) else { continue }
            let label = metricLabel(deployment)
            Self.breakers(label).record(breaker)
            Self.inFlight(label).record(inFlight)
        }
    }

    /// The deployment with this id (`upstream/model`), as the health table names it.
    private func deployment(id: String) -> Deployment? {
        for upstream in upstreams where id.hasPrefix(upstream.config.name + "/") {
            let model = String(id.dropFirst(upstream.config.name.count + 1))
            return Deployment(upstream: upstream.config.name, upstreamModel: model, backend: upstream.backend)
        }
        return nil
    }
}
