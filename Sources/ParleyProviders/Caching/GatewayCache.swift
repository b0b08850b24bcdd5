import CoreMetrics
import Foundation
import NIOCore
import ParleyCore
import ParleyGateway

/// Where an answer came from, for the `x-parley-*` headers.
public struct RouteHead: Sendable, Equatable {
    public var deployment: String
    /// Upstream calls made for this answer (0 for a cache hit).
    public var attempts: Int
    public var model: String

    init<T>(_ routed: Routed<T>) {
        self.init(deployment: routed.deployment.id, attempts: routed.attempts, model: routed.model)
    }

    init(deployment: String, attempts: Int, model: String) {
        self.deployment = deployment
        self.attempts = attempts
        self.model = model
    }
}

/// An answer and how it was served.
public struct Served<Value: Sendable>: Sendable {
    public var value: Value
    public var head: RouteHead
    public var cache: CacheStatus
}

/// The response cache in front of the router, for `/v1` and for the chat UI's answers.
///
/// A request is cached when it is deterministic (temperature 0 or a seed), or when it opts in (`store` or a
/// `ttl`); embeddings always are. Its key is the SHA-256 of its canonical JSON (minus `user`, `metadata`,
/// `store` and Parley's `cache` controls) within a namespace: the caller's API key or user unless it names
/// a shared one. Identical requests that arrive while one is being answered share its upstream call
/// (``FlightTable``); a streamed answer is stored chunk by chunk and replayed the same way. Stored answers
/// carry zero token usage, since replaying them costs nothing.
public final class GatewayCache: Sendable {
    public let cache: (any ResponseCache)?
    public let router: ModelRouter
    public let defaultTTL: Duration
    let streams: FlightTable<FlightHead, StreamChunk>
    let bodies: FlightTable<FlightHead, ByteBuffer>

    struct FlightHead: Sendable {
        var route: RouteHead
        var usage: TokenUsage?
    }

    /// `cache` nil turns caching (and coalescing) off.
    public init(cache: (any ResponseCache)?, router: ModelRouter, defaultTTL: Duration = .seconds(3600)) {
        self.cache = cache
        self.router = router
        self.defaultTTL = defaultTTL
        let retain = max(cache?.maxEntryBytes ?? 0, 1 << 20)
        streams = FlightTable(retainLimit: retain) { $0.byteCount + 16 }
        bodies = FlightTable(retainLimit: retain) { $0.readableBytes + 16 }
    }

    /// Identical calls being answered now.
    public var flightsInProgress: Int { streams.count + bodies.count }

    // MARK: Plans

    public func plan(chat body: ChatCompletionBody, controls: CacheControls, namespace: String) -> CachePlan {
        guard cache != nil else { return .bypass }
        return .plan(chat: body, controls: controls, namespace: namespace, defaultTTL: defaultTTL)
    }

    public func plan(embeddings body: EmbeddingsBody, controls: CacheControls, namespace: String) -> CachePlan {
        guard cache != nil else { return .bypass }
        return .plan(embeddings: body, controls: controls, namespace: namespace, defaultTTL: defaultTTL)
    }

    // MARK: Serving

    /// A streamed chat completion: replayed from the cache, joined to an identical call in flight, or opened.
    public func stream(_ body: ChatCompletionBody, plan: CachePlan, limits: AttemptLimits) async throws -> Served<OpenedStream> {
        Self.counted(try await openStream(body, plan: plan, limits: limits))
    }

    private func openStream(_ body: ChatCompletionBody, plan: CachePlan, limits: AttemptLimits) async throws -> Served<OpenedStream> {
        let router = self.router
        guard let key = plan.key, let cache else {
            let routed = try await router.routeStream(body, limits: limits)
            return Served(value: routed.value, head: RouteHead(routed), cache: .bypass)
        }
        if plan.read,
           let hit = await lookup(key, form: .stream, finishing: streams.finished(key).map { ($0, $1.map(\.byteArray)) }),
           let chunks = try? hit.parts.map({ bytes throws(ProviderError) in try StreamChunk(parsing: bytes) }) {
            // A replay is read once here, to give the chat path its events; /v1 forwards the stored bytes.
            let replay = OpenedStream(first: chunks, stream: UpstreamStream { _ in })
            return Served(value: replay, head: hit.head, cache: .hit(age: hit.age))
        }
        let (reader, joined) = streams.join(key, produce: { flight in
            let routed = try await router.routeStream(body, limits: limits)
            let stream = routed.value.stream
            defer { stream.cancel() }
            flight.publish(head: FlightHead(route: RouteHead(routed), usage: nil))
            flight.append(routed.value.first)
            while let batch = try await stream.next() { flight.append(batch) }
        }, completed: { flight in
            guard plan.write, let (head, parts) = flight.completeParts else { return }
            await Self.store(cache, key: key, ttl: plan.ttl, head: head.route, form: .stream,
                             parts: parts.map { UsageZeroing.zeroed($0.byteArray) })
        })
        do {
            let head = try await reader.head()
            let stream = UpstreamStream { emit in
                defer { reader.leave() }
                while let batch = try await reader.next() {
                    guard await emit(batch) else { return }
                }
            }
            return Served(value: OpenedStream(first: [], stream: stream), head: head.route, cache: .miss(coalesced: joined))
        } catch {
            reader.leave()
            throw error
        }
    }

    /// A whole chat completion.
    public func completion(_ body: ChatCompletionBody, plan: CachePlan, limits: AttemptLimits) async throws -> Served<UpstreamReply> {
        let router = self.router
        return try await whole(plan) { try await router.routeCompletion(body, limits: limits) }
    }

    /// Embeddings.
    public func embeddings(_ body: EmbeddingsBody, plan: CachePlan, limits: AttemptLimits) async throws -> Served<UpstreamReply> {
        let router = self.router
        return try await whole(plan) { try await router.routeEmbeddings(body, limits: limits) }
    }

    private func whole(_ plan: CachePlan, route: @escaping @Sendable () async throws -> Routed<UpstreamReply>) async throws
        -> Served<UpstreamReply>
    {
        Self.counted(try await serveWhole(plan, route: route))
    }

    private func serveWhole(_ plan: CachePlan, route: @escaping @Sendable () async throws -> Routed<UpstreamReply>) async throws
        -> Served<UpstreamReply>
    {
        guard let key = plan.key, let cache else {
            let routed = try await route()
            return Served(value: routed.value, head: RouteHead(routed), cache: .bypass)
        }
        if plan.read,
           let hit = await lookup(key, form: .body, finishing: bodies.finished(key).map { ($0, $1.map { Array(buffer: $0) }) }),
           let part = hit.parts.first {
            return Served(value: UpstreamReply(body: ByteBuffer(bytes: part), usage: TokenUsage(promptTokens: 0, completionTokens: 0)),
                          head: hit.head, cache: .hit(age: hit.age))
        }
        let (reader, joined) = bodies.join(key, produce: { flight in
            let routed = try await route()
            flight.publish(head: FlightHead(route: RouteHead(routed), usage: routed.value.usage))
            flight.append([routed.value.body])
        }, completed: { flight in
            guard plan.write, let (head, parts) = flight.completeParts, let body = parts.first else { return }
            await Self.store(cache, key: key, ttl: plan.ttl, head: head.route, form: .body,
                             parts: [UsageZeroing.zeroed(Array(buffer: body))])
        })
        defer { reader.leave() }
        let head = try await reader.head()
        var body = ByteBuffer()
        while let batch = try await reader.next() {
            for var part in batch { body.writeBuffer(&part) }
        }
        // A shared call's tokens were spent once, by the request that started it.
        let usage = joined ? TokenUsage(promptTokens: 0, completionTokens: 0) : head.usage
        return Served(value: UpstreamReply(body: body, usage: usage), head: head.route, cache: .miss(coalesced: joined))
    }

    /// Counts how an answer was served (``MetricName/cacheLookups``).
    private static func counted<Value>(_ served: Served<Value>) -> Served<Value> {
        let result = switch served.cache {
        case .hit: "hit"
        case .miss(coalesced: true): "coalesced"
        case .miss: "miss"
        case .bypass: "bypass"
        }
        lookups(result).increment()
        return served
    }

    private static let lookups = MetricFamily(counter: MetricName.cacheLookups, labels: ["result"])

    /// The stored answer for `key`; else the answer of an identical call that has just finished and is being
    /// stored (from memory, as the store will keep it), so a request arriving in between is a hit too.
    private func lookup(_ key: String, form: CachedResponse.Form, finishing: @autoclosure () -> (FlightHead, [[UInt8]])?) async
        -> (parts: [[UInt8]], head: RouteHead, age: Int)?
    {
        guard let cache else { return nil }
        if let entry = try? await cache.get(key), entry.form == form {
            let now = Int(Date().timeIntervalSince1970)
            let age = now - CheckedNumber.clamped(Int(clamping: entry.storedAt), to: 0...now)
            return (entry.parts, RouteHead(deployment: entry.deployment, attempts: 0, model: entry.model), age)
        }
        guard let (head, parts) = finishing() else { return nil }
        return (parts.map(UsageZeroing.zeroed),
                RouteHead(deployment: head.route.deployment, attempts: 0, model: head.route.model), 0)
    }

    private static func store(_ cache: any ResponseCache, key: String, ttl: Duration, head: RouteHead, form: CachedResponse.Form,
                              parts: [[UInt8]]) async {
        let entry = CachedResponse(form: form, parts: parts, deployment: head.deployment, model: head.model)
        try? await cache.put(key, entry, ttl: ttl)
    }
}

extension GatewayCache: ModelDirectory {
    public func models() async -> [ModelInfo] { await router.models() }
    public func defaultModel() async -> String? { await router.defaultModel() }

    /// The chat UI's answers go through the cache too: deterministic requests (temperature 0 or a seed) are
    /// cached per user (`chat:` and the request's cache scope), so nobody learns what another user asked.
    public func resolve(_ model: String) async throws -> ResolvedModel {
        let resolved = try await router.resolve(model)
        return ResolvedModel(id: resolved.id, upstreamModel: resolved.upstreamModel, provider: RoutedChatProvider(model: model) { body, scope in
            let plan = self.plan(chat: body, controls: CacheControls(), namespace: "chat:" + (scope ?? ""))
            let served = try await self.stream(body, plan: plan, limits: self.router.limits())
            return (served.value, served.cache == .bypass ? nil : served.cache.headerValue)
        })
    }
}
