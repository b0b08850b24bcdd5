import Logging
import NIOCore
import ParleyCore
import ParleyGateway
import Synchronization

/// A streamed answer whose first chunks have arrived: from here it belongs to the client and is not retried.
public struct OpenedStream: Sendable {
    public var first: [StreamChunk]
    public var stream: UpstreamStream
}

extension ModelRouter {
    /// Opens a streamed chat completion. An attempt counts as successful once its first event arrived, so
    /// connect errors, error statuses, first-token timeouts and streams cut before any content are retried.
    public func routeStream(_ body: ChatCompletionBody, limits: AttemptLimits) async throws -> Routed<OpenedStream> {
        try await route(body.model, limits: limits, operation: "chat") { deployment, limits in
            let stream = try await deployment.backend.stream(body, model: deployment.upstreamModel, limits: limits)
            do {
                return OpenedStream(first: try await stream.next() ?? [], stream: stream)
            } catch {
                stream.cancel()
                throw error
            }
        }
    }

    /// A non-streamed chat completion.
    public func routeCompletion(_ body: ChatCompletionBody, limits: AttemptLimits) async throws -> Routed<UpstreamReply> {
        try await route(body.model, limits: limits, operation: "chat") { deployment, limits in
            try await deployment.backend.complete(body, model: deployment.upstreamModel, limits: limits)
        }
    }

    public func routeEmbeddings(_ body: EmbeddingsBody, limits: AttemptLimits) async throws -> Routed<UpstreamReply> {
        try await route(body.model, limits: limits, operation: "embeddings") { deployment, limits in
            try await deployment.backend.embed(body, model: deployment.upstreamModel, limits: limits)
        }
    }

    public func routeRerank(_ request: RerankRequest, model: String, limits: AttemptLimits) async throws -> Routed<UpstreamReply> {
        try await route(model, limits: limits, operation: "rerank") { deployment, limits in
            try await deployment.backend.rerank(request, model: deployment.upstreamModel, limits: limits)
        }
    }

    /// How a failed attempt is handled.
    enum Verdict {
        /// The request itself is wrong: no retry, no fallback; the client gets the error.
        case clientError
        /// This deployment cannot serve (bad key, unknown model there): try another, not this one again.
        case elsewhere
        /// A passing failure: retry after a backoff.
        case retry
        /// 429: leave the deployment alone for `Retry-After` (or a backoff).
        case rateLimited(Duration?)
    }

    static func verdict(_ error: any Error) -> Verdict {
        switch error {
        case let error as ProviderError:
            guard case .http(let status, _, let retryAfter) = error else { return .retry }
            switch status {
            case 429: return .rateLimited(retryAfter.map { .checkedSeconds($0) })
            case 408, 409, 425, 500...599: return .retry
            case 401, 403, 404: return .elsewhere
            default: return .clientError
            }
        case is InvalidGatewayRequest: return .clientError
        default: return .retry
        }
    }

    /// Calls `attempt` on deployments of `model`, then of its fallbacks, until one succeeds, the request's
    /// deadline passes, or every option is used up. `operation` names the attempts' spans (`chat`, `embeddings`).
    public func route<T: Sendable>(_ model: String, limits: AttemptLimits, operation: String = "chat",
                                   _ attempt: @Sendable (Deployment, AttemptLimits) async throws -> T) async throws -> Routed<T> {
        var attempts = 0
        var lastError: (any Error)?
        var lastDeployment: String?
        var earliestReady: ContinuousClock.Instant?
        var rateLimited = false
        let chain = [model] + (settings.fallbacks[model] ?? settings.fallbacks[settings.aliases[model] ?? model] ?? [])
        func failure(_ reason: RoutingFailure.Reason) -> RoutingFailure {
            RoutingFailure(reason: reason, attempts: attempts, lastDeployment: lastDeployment)
        }

        for (position, name) in chain.enumerated() {
            let group: [Deployment]
            do {
                group = try await deployments(for: name)
            } catch let error as RoutingFailure {
                if position == 0 { throw error }
                logger.warning("a fallback model is not served by any upstream", metadata: ["model": "\(name)"])
                continue
            }
            var tried: [String: Int] = [:]
            var notBefore: [String: ContinuousClock.Instant] = [:]
            var triesHere = 0
            while triesHere < settings.maxAttempts {
                try Task.checkCancellation()
                let now = ContinuousClock.now
                guard now < limits.deadline else { throw failure(.deadline(limits.timeout, last: lastError)) }
                switch pick(group, tried: tried, notBefore: notBefore, now: now) {
                case .wait(let until, let cooling):
                    earliestReady = min(earliestReady ?? until, until)
                    rateLimited = rateLimited || cooling
                    guard until - now <= settings.maxRetryWait, until < limits.deadline else { break }
                    try await Task.sleep(until: until, clock: .continuous)
                    continue
                case .breakersOpen(let until):
                    earliestReady = min(earliestReady ?? until, until)
                case .go(let deployment):
                    attempts += 1
                    triesHere += 1
                    tried[deployment.id, default: 0] += 1
                    lastDeployment = deployment.id
                    let started = ContinuousClock.now
                    let span = attemptSpan(deployment, operation: operation, model: name, attempt: attempts)
                    do {
                        let value = try await Traces.within(span) { try await attempt(deployment, limits) }
                        endAttemptSpan(span, failure: nil)
                        let elapsed = (ContinuousClock.now - started).secondsValue
                        health.withLock { $0[deployment.id, default: DeploymentHealth()].succeeded(latency: elapsed) }
                        recordAttempt(deployment, failure: nil)
                        if position > 0 { recordFallback(asked: model, answered: name) }
                        return Routed(value: value, deployment: deployment, attempts: attempts, model: name)
                    } catch {
                        endAttemptSpan(span, failure: error)
                        if error is CancellationError || Task.isCancelled {
                            health.withLock { $0[deployment.id]?.ended() }
                            throw CancellationError()
                        }
                        lastError = error
                        recordAttempt(deployment, failure: error)
                        let failedAt = ContinuousClock.now
                        switch Self.verdict(error) {
                        case .clientError:
                            health.withLock { $0[deployment.id]?.ended() }
                            throw failure(.upstream(error))
                        case .elsewhere:
                            recordFailure(deployment, error, at: failedAt)
                            notBefore[deployment.id] = .distantFuture
                        case .retry:
                            recordFailure(deployment, error, at: failedAt)
                            notBefore[deployment.id] = failedAt + backoff(retry: tried[deployment.id] ?? 1)
                        case .rateLimited(let retryAfter):
                            let wait = retryAfter ?? backoff(retry: tried[deployment.id] ?? 1)
                            health.withLock { health in
                                health[deployment.id]?.ended()
                                health[deployment.id]?.coolingUntil = failedAt + wait
                            }
                        }
                        if failedAt >= limits.deadline { throw failure(.deadline(limits.timeout, last: error)) }
                        logger.debug("upstream attempt failed", metadata: [
                            "deployment": "\(deployment.id)", "attempt": "\(attempts)", "error": "\(error)"])
                        continue
                    }
                }
                break
            }
        }
        if let lastError {
            if ContinuousClock.now >= limits.deadline { throw failure(.deadline(limits.timeout, last: lastError)) }
            throw failure(.upstream(lastError))
        }
        throw failure(.noDeployment(model, retryAfter: earliestReady.map { max(.zero, $0 - .now) }, rateLimited: rateLimited))
    }

    private enum Pick {
        case go(Deployment)
        /// Nothing is ready before `until`; `cooling`: the first to be ready waits out a 429.
        case wait(until: ContinuousClock.Instant, cooling: Bool)
        /// Every deployment left is behind an open circuit breaker (until `until`): waiting would only hold
        /// the client, so the router falls back or fails at once.
        case breakersOpen(until: ContinuousClock.Instant)
    }

    /// The deployment to call now — fewest tries in this request, then fewest calls in flight, then the
    /// fastest — or when the first one becomes ready. Marks the chosen one busy in the same lock, so a
    /// half-open breaker lets exactly one probe through.
    private func pick(_ group: [Deployment], tried: [String: Int], notBefore: [String: ContinuousClock.Instant],
                      now: ContinuousClock.Instant) -> Pick {
        health.withLock { health in
            var best: (deployment: Deployment, key: (Int, Int, Double, UInt32))?
            var earliest: (until: ContinuousClock.Instant, cooling: Bool)?
            var breakerEnd: ContinuousClock.Instant?
            for deployment in group {
                var state = health[deployment.id] ?? DeploymentHealth()
                let breakerReady = state.readyAt(now)
                health[deployment.id] = state
                if let breakerReady, !state.isCooling(now) {
                    breakerEnd = min(breakerEnd ?? breakerReady, breakerReady)
                    continue
                }
                var ready = breakerReady
                if let blocked = notBefore[deployment.id], blocked > now { ready = max(ready ?? blocked, blocked) }
                if let ready {
                    if ready < earliest?.until ?? .distantFuture { earliest = (ready, state.isCooling(now)) }
                    continue
                }
                let key = (tried[deployment.id] ?? 0, state.inFlight, state.latency ?? 0, UInt32.random(in: 0...UInt32.max))
                if best == nil || key < best!.key { best = (deployment, key) }
            }
            // Deployment ids carry a client's model name when an upstream's list is unknown: keep the table bounded.
            if health.count > Self.healthTableLimit {
                health = health.filter { !$0.value.isIdle(now) }
            }
            if let best {
                health[best.deployment.id, default: DeploymentHealth()].begin()
                return .go(best.deployment)
            }
            if let earliest { return .wait(until: earliest.until, cooling: earliest.cooling) }
            return .breakersOpen(until: breakerEnd ?? .distantFuture)
        }
    }

    private func recordFailure(_ deployment: Deployment, _ error: any Error, at now: ContinuousClock.Instant) {
        let opened = health.withLock {
            $0[deployment.id]?.failed(now: now, threshold: settings.breakerThreshold, cooldown: settings.breakerCooldown) ?? false
        }
        if opened {
            logger.warning("circuit breaker open: deployment turned away for the cooldown", metadata: [
                "deployment": "\(deployment.id)", "cooldown_s": "\(settings.breakerCooldown.secondsValue)", "error": "\(error)"])
        }
    }

    /// Exponential backoff with jitter: 50–100 % of base × 2^(retry−1), capped.
    func backoff(retry: Int) -> Duration {
        let exponent = min(max(retry - 1, 0), 20)
        let full = min(settings.backoffCap, settings.backoffBase * (1 << exponent))
        return full * Double.random(in: 0.5...1.0)
    }

    /// Deployments whose health is remembered before idle ones are forgotten.
    static let healthTableLimit = 4096

    /// Deployments whose health is remembered now.
    var healthTableSize: Int { health.withLock { $0.count } }

    /// A deployment's state, for tests and metrics.
    public func breakerIsOpen(_ deploymentID: String) -> Bool {
        health.withLock { $0[deploymentID]?.isOpen ?? false }
    }
}
