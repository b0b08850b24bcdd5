import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ParleyCore
import ParleyGateway
import ParleyMockLLM
import ParleyTestSupport
import Synchronization
import Testing
@testable import ParleyProviders

/// The provider router against real mock upstreams over loopback: retries, Retry-After, fallbacks, the
/// circuit breaker, the shared deadline and load balancing.
@Suite struct ModelRouterTests {
    /// Generous limits, so a loaded machine never turns a test into a timeout.
    static let timeouts = UpstreamTimeouts(connect: .seconds(5), firstToken: .seconds(20), idle: .seconds(20), total: .seconds(60))

    struct Setup {
        var router: ModelRouter
        var mocks: [MockLLMServer]
        var ports: [Int]
    }

    /// Runs `test` with a router over `mockCount` fresh mocks named `mock0…` (plus `extra` upstreams).
    func withRouter(mocks mockCount: Int = 1, extra: [UpstreamConfig] = [], timeouts: UpstreamTimeouts = Self.timeouts,
                    configure: (inout RouterSettings) -> Void = { _ in },
                    _ test: (Setup) async throws -> Void) async throws {
        var mocks: [MockLLMServer] = []
        var running: [BackgroundService] = []
        for _ in 0..<mockCount {
            var options = MockLLMServer.Options()
            options.port = 0
            let mock = MockLLMServer(options: options)
            mocks.append(mock)
            running.append(try await mock.start())
        }
        var settings = RouterSettings()
        settings.backoffBase = .milliseconds(20)
        configure(&settings)
        let client = OpenAICompatibleProvider.makeHTTPClient(timeouts: timeouts)
        let upstreams = running.enumerated().map { index, server in
            UpstreamConfig(name: "mock\(index)", baseURL: "http://127.0.0.1:\(server.port)/v1", models: ["mock-1", "mock-2"])
        } + extra
        let router = ModelRouter(upstreams: upstreams, settings: settings, defaultModel: nil, client: client,
                                 timeouts: timeouts, logger: Logger(label: "test"))
        var failure: (any Error)?
        do {
            try await test(Setup(router: router, mocks: mocks, ports: running.map(\.port)))
        } catch {
            failure = error
        }
        try await client.shutdown()
        for server in running { try await server.stop() }
        if let failure { throw failure }
    }

    static func body(_ prompt: String, model: String = "mock-1", stream: Bool = false) throws -> ChatCompletionBody {
        try ChatCompletionBody(parsing: Array("""
            {"model":\(JSONText.quote(model)),"stream":\(stream),"messages":[{"role":"user","content":\(JSONText.quote(prompt))}]}
            """.utf8))
    }

    static func limits(_ timeout: Duration = .seconds(30)) -> AttemptLimits {
        AttemptLimits(timeout: timeout, firstToken: timeouts.firstToken, idle: timeouts.idle)
    }

    static func text(of reply: UpstreamReply) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(reply.body.readableBytesView)) as? [String: Any]
        let choice = (object?["choices"] as? [[String: Any]])?.first
        return try #require((choice?["message"] as? [String: Any])?["content"] as? String)
    }

    @Test func aServerErrorIsRetriedAndThenAnswers() async throws {
        try await withRouter { setup in
            let routed = try await setup.router.routeCompletion(try Self.body("a mock:tokens=3 mock:fault=500 mock:fault_times=1"),
                                                                 limits: Self.limits())
            #expect(routed.attempts == 2)
            #expect(try Self.text(of: routed.value) == "Lorem ipsum dolor")
            #expect(setup.mocks[0].counters.snapshot["chat_completions"] == 2)
        }
    }

    @Test func aStreamFailingBeforeItsFirstEventIsRetried() async throws {
        try await withRouter { setup in
            let routed = try await setup.router.routeStream(try Self.body("b mock:tokens=4 mock:fault=500 mock:fault_times=2", stream: true),
                                                             limits: Self.limits())
            #expect(routed.attempts == 3)
            let text = Mutex("")
            _ = try await ChatStreamReader.read(routed.value.stream, first: routed.value.first) { piece in
                if case .text(let piece) = piece { text.withLock { $0 += piece } }
            }
            #expect(text.withLock { $0 } == "Lorem ipsum dolor sit")
        }
    }

    @Test func retryAfterIsWaitedOutAsTold() async throws {
        try await withRouter { setup in
            let started = ContinuousClock.now
            let routed = try await setup.router.routeCompletion(
                try Self.body("c mock:fault=429 mock:retry_after=1 mock:fault_times=1"), limits: Self.limits())
            let waited = ContinuousClock.now - started
            #expect(routed.attempts == 2)
            #expect(waited >= .milliseconds(950), "the second call went out only after Retry-After (1 s), took \(waited)")
        }
    }

    @Test func aRetryAfterLongerThanParleyWaitsIsTheClientsToHandle() async throws {
        try await withRouter(configure: { $0.maxRetryWait = .seconds(5) }) { setup in
            let started = ContinuousClock.now
            do {
                _ = try await setup.router.routeCompletion(try Self.body("d mock:fault=429 mock:retry_after=60"), limits: Self.limits())
                Issue.record("expected a rate limit")
            } catch let failure as RoutingFailure {
                guard case .upstream(ProviderError.http(429, _, let retryAfter)) = failure.reason else {
                    Issue.record("unexpected \(failure)")
                    return
                }
                #expect(retryAfter == 60 && failure.attempts == 1)
            }
            #expect(ContinuousClock.now - started < .seconds(5), "no 60 s wait")
            // The deployment is left alone while its Retry-After runs: the next call is not sent.
            do {
                _ = try await setup.router.routeCompletion(try Self.body("e"), limits: Self.limits())
                Issue.record("expected the deployment to be cooling down")
            } catch let failure as RoutingFailure {
                guard case .noDeployment(_, let retryAfter, let rateLimited) = failure.reason else {
                    Issue.record("unexpected \(failure)")
                    return
                }
                #expect(rateLimited && (retryAfter ?? .zero) > .seconds(50))
            }
            #expect(setup.mocks[0].counters.snapshot["chat_completions"] == 1)
        }
    }

    @Test func aDeadUpstreamFallsBackToTheNextModel() async throws {
        let dead = UpstreamConfig(name: "dead", baseURL: "http://127.0.0.1:1/v1", models: ["big"])
        try await withRouter(extra: [dead], configure: { $0.fallbacks = ["big": ["mock-2"]] }) { setup in
            let routed = try await setup.router.routeCompletion(try Self.body("f mock:tokens=2", model: "big"), limits: Self.limits())
            #expect(routed.model == "mock-2" && routed.deployment.id == "mock0/mock-2")
            #expect(routed.attempts == 4, "three tries on the dead upstream, then the fallback")
            #expect(try Self.text(of: routed.value) == "Lorem ipsum")
        }
    }

    @Test func theBreakerOpensTurnsCallsAwayAndRecoversAfterAProbe() async throws {
        try await withRouter(configure: {
            $0.maxAttempts = 1
            $0.breakerThreshold = 2
            $0.breakerCooldown = .seconds(1)
        }) { setup in
            for _ in 0..<2 {
                await #expect(throws: RoutingFailure.self) {
                    try await setup.router.routeCompletion(try Self.body("g mock:fault=500"), limits: Self.limits())
                }
            }
            #expect(setup.router.breakerIsOpen("mock0/mock-1"))
            // Open: turned away at once, the upstream never sees the call.
            do {
                _ = try await setup.router.routeCompletion(try Self.body("h"), limits: Self.limits())
                Issue.record("expected the breaker to turn the call away")
            } catch let failure as RoutingFailure {
                guard case .noDeployment(_, _, let rateLimited) = failure.reason else {
                    Issue.record("unexpected \(failure)")
                    return
                }
                #expect(!rateLimited && failure.attempts == 0)
            }
            #expect(setup.mocks[0].counters.snapshot["chat_completions"] == 2)
            // After the cooldown one probe goes through; its success closes the breaker.
            try await Task.sleep(for: .milliseconds(1100))
            let probe = try await setup.router.routeCompletion(try Self.body("i mock:tokens=1"), limits: Self.limits())
            #expect(probe.attempts == 1 && !setup.router.breakerIsOpen("mock0/mock-1"))
            _ = try await setup.router.routeCompletion(try Self.body("j"), limits: Self.limits())
            #expect(setup.mocks[0].counters.snapshot["chat_completions"] == 4)
        }
    }

    @Test func oneDeadlineHoldsAcrossRetries() async throws {
        var timeouts = Self.timeouts
        timeouts.firstToken = .milliseconds(800)
        try await withRouter(timeouts: timeouts, configure: { $0.maxAttempts = 5 }) { setup in
            let started = ContinuousClock.now
            let limits = AttemptLimits(timeout: .milliseconds(1500), firstToken: timeouts.firstToken, idle: timeouts.idle)
            do {
                _ = try await setup.router.routeStream(try Self.body("k mock:fault=slow", stream: true), limits: limits)
                Issue.record("expected the deadline to pass")
            } catch let failure as RoutingFailure {
                guard case .deadline = failure.reason else {
                    Issue.record("unexpected \(failure)")
                    return
                }
                // An 800 ms first-token limit fits twice in 1.5 s, the second cut short; on a loaded machine the
                // backoff may leave no room for the second. Never the five allowed.
                #expect((1...2).contains(failure.attempts), "\(failure.attempts) attempts")
            }
            let elapsed = ContinuousClock.now - started
            // Five stacked 800 ms attempts would take over 4 s; the request's deadline ends it at 1.5 s.
            #expect(elapsed >= .milliseconds(1400) && elapsed < .seconds(3), "took \(elapsed)")
        }
    }

    @Test func callsSpreadOverDeploymentsLeastBusyFirst() async throws {
        try await withRouter(mocks: 2) { setup in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        _ = try await setup.router.routeCompletion(try Self.body("l\(index) mock:ttft_ms=100 mock:tokens=1"),
                                                                   limits: Self.limits())
                    }
                }
                try await group.waitForAll()
            }
            let counts = setup.mocks.map { $0.counters.snapshot["chat_completions"] ?? 0 }
            #expect(counts.reduce(0, +) == 20)
            #expect(counts.allSatisfy { $0 >= 5 }, "both deployments take a share of concurrent calls: \(counts)")
        }
    }

    @Test func clientErrorsAreNotRetriedOrFallenBackFrom() async throws {
        try await withRouter(configure: { $0.fallbacks = ["mock-1": ["mock-2"]] }) { setup in
            do {
                _ = try await setup.router.routeCompletion(try Self.body("m mock:fault=400"), limits: Self.limits())
                Issue.record("expected the upstream's 400")
            } catch let failure as RoutingFailure {
                guard case .upstream(ProviderError.http(400, _, _)) = failure.reason else {
                    Issue.record("unexpected \(failure)")
                    return
                }
                #expect(failure.attempts == 1)
            }
            #expect(setup.mocks[0].counters.snapshot["chat_completions"] == 1)
        }
    }

    @Test func backoffGrowsWithJitterUpToTheCap() async throws {
        try await withRouter(configure: {
            $0.backoffBase = .milliseconds(100)
            $0.backoffCap = .milliseconds(350)
        }) { setup in
            for _ in 0..<50 {
                let first = setup.router.backoff(retry: 1), second = setup.router.backoff(retry: 2), fifth = setup.router.backoff(retry: 5)
                #expect(first >= .milliseconds(50) && first <= .milliseconds(100))
                #expect(second >= .milliseconds(100) && second <= .milliseconds(200))
                #expect(fifth >= .milliseconds(175) && fifth <= .milliseconds(350))
            }
        }
    }
}

/// A backend whose model list cannot be fetched and that answers any model at once.
private struct UnlistedBackend: ModelBackend {
    var kind: String { "openai" }
    func complete(_ request: ChatCompletionBody, model: String, limits: AttemptLimits) async throws -> UpstreamReply {
        UpstreamReply(body: ByteBuffer(string: "{}"))
    }
    func stream(_ request: ChatCompletionBody, model: String, limits: AttemptLimits) async throws -> UpstreamStream {
        UpstreamStream { _ in }
    }
    func embed(_ request: EmbeddingsBody, model: String, limits: AttemptLimits) async throws -> UpstreamReply {
        UpstreamReply(body: ByteBuffer(string: "{}"))
    }
    func listModels(limits: AttemptLimits) async throws -> [String] {
        throw ProviderError.connect("no list")
    }
}

@Suite struct RouterMemoryTests {
    /// With an upstream whose list is unknown, any name a client sends is tried there; what the router remembers
    /// per deployment stays bounded however many names are made up.
    @Test func madeUpModelNamesDoNotGrowTheHealthTable() async throws {
        let router = ModelRouter(backends: [(UpstreamConfig(name: "open", baseURL: "http://127.0.0.1:9/v1"), UnlistedBackend())],
                                 defaultModel: nil, timeouts: ModelRouterTests.timeouts, logger: Logger(label: "test"))
        for n in 0..<(ModelRouter.healthTableLimit + 500) {
            _ = try await router.routeCompletion(try ModelRouterTests.body("hi", model: "made-up-\(n)"), limits: router.limits())
        }
        #expect(router.healthTableSize <= ModelRouter.healthTableLimit + 1)
        #expect(router.metricLabel(model: "made-up-7") == "other", "and such names are never a metric's label")
    }
}
