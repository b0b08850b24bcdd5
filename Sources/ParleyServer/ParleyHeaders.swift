import HTTPTypes

/// Response headers that say how Parley served a `/v1` call.
enum ParleyHeaders {
    /// The deployment (`upstream/model`) that answered.
    static let deployment = HTTPField.Name("x-parley-deployment")!
    /// Upstream calls made, the answering one included.
    static let attempts = HTTPField.Name("x-parley-attempts")!
    /// The model that answered, when a fallback did.
    static let model = HTTPField.Name("x-parley-model")!
    /// A request's own deadline in seconds (at most the configured request timeout).
    static let timeout = HTTPField.Name("x-parley-timeout")!
    /// How the cache served the response: `hit`, `miss` or `bypass`.
    static let cache = HTTPField.Name("x-parley-cache")!
    /// Present (`true`) when the answer came from an identical request's upstream call.
    static let coalesced = HTTPField.Name("x-parley-coalesced")!
    /// Request: `no-cache`, `no-store`, `store`, `ttl=N`.
    static let cacheControl = HTTPField.Name("x-parley-cache-control")!
    /// Request: a cache namespace shared by whoever names it.
    static let cacheNamespace = HTTPField.Name("x-parley-cache-namespace")!
}
