import ParleyCore

/// How a response was served: `x-parley-cache: hit|miss|bypass`.
public enum CacheStatus: Sendable, Equatable {
    /// From the cache; `age` seconds since it was stored.
    case hit(age: Int)
    /// From the upstream; `coalesced` when another identical request's call was shared.
    case miss(coalesced: Bool)
    /// The cache was not consulted (off, or the request is not cacheable).
    case bypass

    public var headerValue: String {
        switch self {
        case .hit: return "hit"
        case .miss: return "miss"
        case .bypass: return "bypass"
        }
    }
}

/// How one request uses the cache.
public struct CachePlan: Sendable, Equatable {
    /// The entry's key; `nil` bypasses the cache.
    public var key: String?
    /// False with `no-cache`: go upstream even if an answer is stored.
    public var read: Bool
    /// False with `no-store`.
    public var write: Bool
    public var ttl: Duration

    public static let bypass = CachePlan(key: nil, read: false, write: false, ttl: .zero)
}

extension CachePlan {
    /// Top-level request fields that do not change the answer.
    static let ignoredFields: Set<String> = ["user", "metadata", "store", "cache"]

    /// A chat completion is cached when it is deterministic (temperature 0 or a seed) or opts in.
    public static func plan(chat body: ChatCompletionBody, controls: CacheControls, namespace: String, defaultTTL: Duration) -> CachePlan {
        plan(bytes: body.bytes, kind: body.stream ? "chat.stream" : "chat", cacheable: body.isDeterministic || controls.optIn,
             controls: controls, namespace: namespace, defaultTTL: defaultTTL)
    }

    /// Embeddings always are.
    public static func plan(embeddings body: EmbeddingsBody, controls: CacheControls, namespace: String, defaultTTL: Duration) -> CachePlan {
        plan(bytes: body.bytes, kind: "embeddings", cacheable: true, controls: controls, namespace: namespace, defaultTTL: defaultTTL)
    }

    /// The key is the SHA-256 of the request's canonical JSON (minus ``ignoredFields``) within a namespace: the
    /// caller's own unless the request names a shared one.
    static func plan(bytes: [UInt8], kind: String, cacheable: Bool, controls: CacheControls, namespace: String,
                     defaultTTL: Duration) -> CachePlan {
        guard cacheable, !(controls.noCache && controls.noStore) else { return .bypass }
        let scope = controls.namespace.map { "ns:" + $0 } ?? "id:" + namespace
        guard let key = try? CanonicalJSON.digest(bytes, omitting: ignoredFields, kind: kind, namespace: scope) else {
            return .bypass
        }
        return CachePlan(key: key, read: !controls.noCache, write: !controls.noStore, ttl: controls.ttl ?? defaultTTL)
    }
}
