import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ParleyCore
import ParleyGateway
import ParleyProviders

/// The OpenAI-compatible API: `GET /v1/models`, `POST /v1/chat/completions` (streamed or not),
/// `POST /v1/embeddings`. Bodies go to upstreams as sent (model name replaced), answers come back as the
/// upstream sent them (Anthropic's translated), through the provider router.
struct OpenAIRoutes {
    let gateway: GatewayCache
    /// The provider router behind the cache.
    let router: ModelRouter
    let accounting: CallAccounting
    /// Service keys and users' keys with the `gateway` scope.
    let access: GatewayAccess
    /// Silence after which a stream that has not opened upstream yet gets a keep-alive comment.
    let keepAlive: Duration
    /// Largest request body read.
    let bodyLimit: Int

    func register(on router: some RouterMethods<ParleyRequestContext>) {
        let v1 = router.group("v1")
            .add(middleware: access)
        v1.get("models", use: models)
        v1.get("models/{id}", use: model)
        v1.post("chat/completions", use: chatCompletions)
        v1.post("embeddings", use: embeddings)
    }

    @Sendable func models(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let models = await router.models()
        let data = models.map(Self.modelJSON).joined(separator: ",")
        return Self.json("{\"object\":\"list\",\"data\":[\(data)]}")
    }

    @Sendable func model(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard let model = await router.models().first(where: { $0.id == id }) else {
            throw ClientError(.notFound, type: "not_found", message: "The model '\(id)' does not exist",
                              param: "model", code: "model_not_found")
        }
        return Self.json(Self.modelJSON(model))
    }

    @Sendable func chatCompletions(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let body = try await parse(request, as: ChatCompletionBody.init(parsing:))
        let plan = gateway.plan(chat: body, controls: try Self.cacheControls(body.cacheControls, request),
                                         namespace: context.caller)
        let limits = router.limits(timeout: try Self.requestTimeout(request))
        let ticket = try await admit(context, model: body.model, body: body.bytes, maxTokens: body.maxTokens, stream: body.stream)
        let gateway = gateway
        let accounting = accounting
        let model = body.model
        if body.stream {
            var extra: HTTPFields = [:]
            RateLimitHeaders.add(ticket.admission.state, to: &extra)
            return try await OpenAIStreaming.response(
                headers: extra, keepAlive: keepAlive, context: context, drain: accounting.drain, logger: context.logger,
                open: { try await ticket.within { try await gateway.stream(body, plan: plan, limits: limits) } },
                finished: { end in
                    await accounting.settle(ticket, model: model, end.spent, outcome: end.outcome,
                                            timeToFirstToken: end.firstChunkAt.map { $0 - ticket.started })
                })
        }
        do {
            let served = try await ticket.within { try await gateway.completion(body, plan: plan, limits: limits) }
            await accounting.settle(ticket, model: model, Self.spent(served), outcome: Self.outcome(served))
            return Self.json(served, admission: ticket.admission)
        } catch {
            await accounting.settle(ticket, model: model, .nothing, outcome: Self.outcome(error))
            throw error
        }
    }

    @Sendable func embeddings(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let body = try await parse(request, as: EmbeddingsBody.init(parsing:))
        let plan = gateway.plan(embeddings: body, controls: try Self.cacheControls(body.cacheControls, request),
                                         namespace: context.caller)
        let limits = router.limits(timeout: try Self.requestTimeout(request))
        let ticket = try await admit(context, model: body.model, body: body.bytes, maxTokens: 0, stream: false,
                                     operation: "embeddings")
        do {
            let served = try await ticket.within { try await gateway.embeddings(body, plan: plan, limits: limits) }
            await accounting.settle(ticket, model: body.model, Self.spent(served), outcome: Self.outcome(served))
            return Self.json(served, admission: ticket.admission)
        } catch {
            await accounting.settle(ticket, model: body.model, .nothing, outcome: Self.outcome(error))
            throw error
        }
    }

    /// What a non-streamed answer cost: nothing when replayed from the cache (or shared with an identical call).
    private static func spent(_ served: Served<UpstreamReply>) -> CallAccounting.Spent {
        guard served.cache == .bypass || served.cache == .miss(coalesced: false) else { return .nothing }
        return served.value.usage.map(CallAccounting.Spent.reported) ?? .unknown(completion: 0)
    }

    private static func outcome(_ served: Served<UpstreamReply>) -> AnswerOutcome {
        served.cache == .bypass || served.cache == .miss(coalesced: false) ? .completed : .cached
    }

    private static func outcome(_ error: any Error) -> AnswerOutcome {
        error is CancellationError ? .stopped : .failed
    }

    /// Checks the caller's and the model's limits and charges the caller's budgets; a refusal is a 429 (or
    /// 413), an unreachable shared limiter failing closed a 503.
    private func admit(_ context: ParleyRequestContext, model: String, body: [UInt8], maxTokens: Int?, stream: Bool,
                       operation: String = "chat") async throws -> CallAccounting.Ticket
    {
        do {
            return try await accounting.admit(context, model: model, promptTokens: body.count / 4,
                                              maxTokens: maxTokens, stream: stream, operation: operation)
        } catch let error as ParleyError {
            throw ClientError(.serviceUnavailable, type: "unavailable", message: error.description, code: "limits_unavailable")
        }
    }

    /// The body's cache controls with the request's `x-parley-cache-*` headers applied; a bad header is an
    /// ``InvalidGatewayRequest`` (a 400 naming it, by ``ClientError/from(_:)``).
    static func cacheControls(_ body: CacheControls, _ request: Request) throws -> CacheControls {
        var controls = body
        try controls.apply(controlHeader: request.headers.value(of: ParleyHeaders.cacheControl),
                           namespaceHeader: request.headers.value(of: ParleyHeaders.cacheNamespace))
        return controls
    }

    // MARK: Helpers

    /// Reads the body and parses it; what cannot be served is an ``InvalidGatewayRequest`` (a 400 naming the
    /// parameter).
    private func parse<Body>(_ request: Request, as make: ([UInt8]) throws(InvalidGatewayRequest) -> Body) async throws -> Body {
        try make(try await readBody(request))
    }

    private func readBody(_ request: Request) async throws -> [UInt8] {
        let limit = bodyLimit
        do {
            return Array(buffer: try await request.body.collect(upTo: limit))
        } catch is NIOTooManyBytesError {
            throw ClientError.bodyTooLarge(limit: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw ClientError.bodyTooLarge(limit: limit)
        }
    }

    /// `x-parley-timeout: seconds` shortens this request's deadline.
    static func requestTimeout(_ request: Request) throws -> Duration? {
        guard let raw = request.headers.value(of: ParleyHeaders.timeout) else { return nil }
        guard let seconds = CheckedNumber.decimal(raw, in: 0...1e12), seconds > 0 else {
            throw ClientError.invalid("x-parley-timeout must be a positive number of seconds")
        }
        return .checkedSeconds(min(seconds, 86_400))
    }

    static func modelJSON(_ model: ModelInfo) -> String {
        "{\"id\":\(JSONText.quote(model.id)),\"object\":\"model\",\"created\":0,\"owned_by\":\(JSONText.quote(model.upstream))}"
    }

    static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(_ served: Served<UpstreamReply>, admission: Admission) -> Response {
        var fields = servedHeaders(served.head, cache: served.cache, [.contentType: "application/json"])
        RateLimitHeaders.add(admission.state, to: &fields)
        return Response(status: .ok, headers: fields, body: .init(byteBuffer: served.value.body))
    }

    /// `x-parley-deployment`, `x-parley-attempts`, `x-parley-model`, `x-parley-cache` (and `Age` on hits).
    static func servedHeaders(_ head: RouteHead, cache: CacheStatus, _ base: HTTPFields) -> HTTPFields {
        var fields = base
        fields[ParleyHeaders.deployment] = head.deployment
        fields[ParleyHeaders.attempts] = String(head.attempts)
        fields[ParleyHeaders.model] = head.model
        fields[ParleyHeaders.cache] = cache.headerValue
        switch cache {
        case .hit(let age): fields[.age] = String(age)
        case .miss(coalesced: true): fields[ParleyHeaders.coalesced] = "true"
        default: break
        }
        return fields
    }
}
