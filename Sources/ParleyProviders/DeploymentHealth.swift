/// What the router knows about one deployment between requests: calls in flight (for least-busy balancing),
/// a moving average of its latency, its circuit breaker, and how long a 429 asked it to be left alone.
///
/// The breaker opens after `threshold` failures in a row and turns the deployment away for `cooldown`; then
/// one request is let through as a probe (half-open): success closes the breaker, failure opens it again.
struct DeploymentHealth: Sendable {
    enum Breaker: Sendable, Equatable {
        case closed(failures: Int)
        case open(until: ContinuousClock.Instant)
        case halfOpen(probing: Bool)
    }

    var inFlight = 0
    /// Exponentially weighted average time to the first byte of the answer, in seconds.
    var latency: Double?
    var breaker = Breaker.closed(failures: 0)
    /// Set by a 429's `Retry-After`.
    var coolingUntil: ContinuousClock.Instant?

    /// When a new call may go to this deployment: `nil` for now, else the instant it may.
    /// Moves an open breaker whose cooldown is over to half-open.
    mutating func readyAt(_ now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        if case .open(let until) = breaker {
            if now < until { return until }
            breaker = .halfOpen(probing: false)
        }
        if case .halfOpen(probing: true) = breaker { return .distantFuture }
        if let coolingUntil, now < coolingUntil { return coolingUntil }
        return nil
    }

    /// A call starts: a half-open breaker lets only this one through.
    mutating func begin() {
        inFlight += 1
        if case .halfOpen = breaker { breaker = .halfOpen(probing: true) }
    }

    mutating func succeeded(latency seconds: Double) {
        inFlight -= 1
        breaker = .closed(failures: 0)
        latency = latency.map { $0 * 0.8 + seconds * 0.2 } ?? seconds
    }

    /// A call failed in a way that says the deployment is unwell.
    mutating func failed(now: ContinuousClock.Instant, threshold: Int, cooldown: Duration) -> Bool {
        inFlight -= 1
        switch breaker {
        case .closed(let failures) where failures + 1 < threshold:
            breaker = .closed(failures: failures + 1)
            return false
        default:
            breaker = .open(until: now + cooldown)
            return true
        }
    }

    /// A call ended in a way that says nothing about the deployment's health (cancelled, client's mistake, 429).
    mutating func ended() {
        inFlight -= 1
        if case .halfOpen(probing: true) = breaker { breaker = .halfOpen(probing: false) }
    }

    /// True when a 429's `Retry-After` holds the deployment now.
    func isCooling(_ now: ContinuousClock.Instant) -> Bool {
        coolingUntil.map { now < $0 } ?? false
    }

    /// Nothing worth keeping but a latency average: no call in flight, no failure counted, no wait asked.
    func isIdle(_ now: ContinuousClock.Instant) -> Bool {
        inFlight == 0 && breaker == .closed(failures: 0) && !isCooling(now)
    }

    var isOpen: Bool {
        if case .open = breaker { return true }
        return false
    }
}

extension ContinuousClock.Instant {
    static var distantFuture: ContinuousClock.Instant { .now + .seconds(86_400 * 365) }
}
