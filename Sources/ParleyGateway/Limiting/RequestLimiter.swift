import ParleyCore
import Foundation

/// The limits Parley enforces on callers; each is off when unset.
public struct RateLimitSettings: Sendable, Equatable {
    /// Requests per minute per API key (or user, or client address for anonymous callers).
    public var requestsPerMinute: Int?
    /// Tokens per minute per API key/user/address: the prompt estimate plus `max_tokens` are reserved at
    /// admission and reconciled with the real usage afterwards.
    public var tokensPerMinute: Int?
    /// Streamed answers at once per API key/user/address.
    public var concurrentStreams: Int?
    /// Requests per minute per model, over all callers.
    public var modelRequestsPerMinute: [String: Int] = [:]
    /// Tokens per minute per model, over all callers.
    public var modelTokensPerMinute: [String: Int] = [:]
    /// Completion tokens reserved for a request that names no `max_tokens`.
    public var defaultCompletionTokens = 256

    public init() {}

    public var isEnabled: Bool {
        requestsPerMinute != nil || tokensPerMinute != nil || concurrentStreams != nil
            || !modelRequestsPerMinute.isEmpty || !modelTokensPerMinute.isEmpty
    }
}

/// A request let through: what it reserved, to be settled when its answer is known.
public struct Admission: Sendable {
    /// The bucket nearest to empty after admission, for `RateLimit-*` headers; nil when no limit applies.
    public var state: BucketState?
    /// Token buckets charged with ``reservedTokens``.
    let tokenBuckets: [RateBucket]
    public let reservedTokens: Int
    let streamSlot: (key: String, lease: String)?

    static let unlimited = Admission(state: nil, tokenBuckets: [], reservedTokens: 0, streamSlot: nil)
}

/// Why a request was refused.
public enum LimitRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// A limit is used up; the same request is allowed after `retryAfter`.
    /// `kind` names the limit for the metrics: `requests`, `tokens`, `model_requests`, `model_tokens`, `concurrency`
    /// (or the caller's own, such as `sign_ins`).
    case limited(what: String, limit: Int, retryAfter: Duration, state: BucketState, kind: String)
    /// The request alone needs more tokens than the per-minute limit: it can never pass.
    case tooLarge(needed: Int, limit: Int)

    /// Which limit refused, for the metrics: the kind a refusal names, or `too_large`.
    public var limitKind: String {
        switch self {
        case .tooLarge: "too_large"
        case .limited(_, _, _, _, let kind): kind
        }
    }

    public var description: String {
        switch self {
        case .limited(let what, let limit, let retryAfter, _, _):
            let seconds = String(format: "%.2f", Double(retryAfter.components.seconds) + Double(retryAfter.components.attoseconds) / 1e18)
            return "rate limit reached for \(what) (limit \(limit)); try again in \(seconds) s"
        case .tooLarge(let needed, let limit):
            return "this request needs about \(needed) tokens, more than the limit of \(limit) tokens per minute; lower max_tokens or shorten the prompt"
        }
    }
}

/// Applies ``RateLimitSettings`` through a ``RateLimiter``: one call at admission (all buckets at once, so
/// Redis costs one round trip), one to reconcile tokens, and one each to take and give back a stream slot.
public struct RequestLimiter: Sendable {
    public let limiter: any RateLimiter
    public let settings: RateLimitSettings
    /// How long a stream slot survives a replica that died holding it.
    public var streamLeaseTTL: Duration = .seconds(600)

    public init(limiter: any RateLimiter, settings: RateLimitSettings) {
        self.limiter = limiter
        self.settings = settings
    }

    /// Admits a request by `principal` for `model`, or throws ``LimitRefusal`` (or the limiter's
    /// ``ParleyError/unavailable(_:)`` when it fails closed).
    public func admit(principal: String, model: String?, promptTokens: Int, maxTokens: Int?, stream: Bool) async throws -> Admission {
        guard settings.isEnabled else { return .unlimited }
        let tokens = promptTokens + (maxTokens ?? settings.defaultCompletionTokens)
        var buckets: [(RateBucket, String, String)] = []
        var tokenBuckets: [RateBucket] = []
        if let rpm = settings.requestsPerMinute {
            buckets.append((RateBucket(key: "\(principal):rpm", cost: 1, limit: .perMinute(rpm)), "requests per minute", "requests"))
        }
        if let tpm = settings.tokensPerMinute {
            guard tokens <= tpm else { throw LimitRefusal.tooLarge(needed: tokens, limit: tpm) }
            let bucket = RateBucket(key: "\(principal):tpm", cost: tokens, limit: .perMinute(tpm))
            buckets.append((bucket, "tokens per minute", "tokens"))
            tokenBuckets.append(bucket)
        }
        if let model, let rpm = settings.modelRequestsPerMinute[model] {
            buckets.append((RateBucket(key: "model:\(model):rpm", cost: 1, limit: .perMinute(rpm)), "requests per minute to \(model)",
                            "model_requests"))
        }
        if let model, let tpm = settings.modelTokensPerMinute[model] {
            guard tokens <= tpm else { throw LimitRefusal.tooLarge(needed: tokens, limit: tpm) }
            let bucket = RateBucket(key: "model:\(model):tpm", cost: tokens, limit: .perMinute(tpm))
            buckets.append((bucket, "tokens per minute to \(model)", "model_tokens"))
            tokenBuckets.append(bucket)
        }
        var slot: (key: String, lease: String)?
        if stream, let most = settings.concurrentStreams {
            let key = "\(principal):streams"
            let lease = UUID().uuidString
            guard try await limiter.hold(key, max: most, lease: lease, ttl: streamLeaseTTL) else {
                throw LimitRefusal.limited(what: "streams at once", limit: most, retryAfter: .seconds(1),
                                           state: BucketState(limit: most, remaining: 0, reset: .seconds(1)), kind: "concurrency")
            }
            slot = (key, lease)
        }
        let verdict: RateVerdict
        do {
            verdict = buckets.isEmpty ? RateVerdict(allowed: true, retryAfter: nil, buckets: [])
                : try await limiter.acquire(buckets.map(\.0))
        } catch {
            if let slot { try? await limiter.release(slot.key, lease: slot.lease) }
            throw error
        }
        guard verdict.allowed else {
            if let slot { try? await limiter.release(slot.key, lease: slot.lease) }
            let index = buckets.indices.first { buckets[$0].0.cost > verdict.buckets[$0].remaining } ?? 0
            throw LimitRefusal.limited(what: buckets[index].1, limit: buckets[index].0.limit.limit,
                                       retryAfter: verdict.retryAfter ?? .seconds(1), state: verdict.buckets[index], kind: buckets[index].2)
        }
        return Admission(state: verdict.tightest, tokenBuckets: tokenBuckets, reservedTokens: tokens, streamSlot: slot)
    }

    /// Reconciles the reservation with the tokens really used (nil: unknown, the reservation stands), and
    /// gives back the stream slot. Never throws: a failed reconcile only leaves the reservation in place.
    public func settle(_ admission: Admission, usedTokens: Int?) async {
        if let used = usedTokens, used != admission.reservedTokens {
            for bucket in admission.tokenBuckets {
                try? await limiter.adjust(RateBucket(key: bucket.key, cost: used - admission.reservedTokens, limit: bucket.limit))
            }
        }
        if let slot = admission.streamSlot { try? await limiter.release(slot.key, lease: slot.lease) }
    }
}
