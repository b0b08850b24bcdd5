import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import ParleyCore
import Synchronization
import Testing
@testable import ParleyServer

/// Requests are handled on their connection's event loop (``LoopBoundChannel``, ``EventLoopTaskExecutor``): the
/// handler, what it awaits, the tasks it starts for the request and the upstream calls it makes come back to the
/// same thread. Checked on a real server built with Parley's server builder, over loopback.
@Suite struct EventLoopExecutionTests {
    actor Tally {
        var count = 0
        func bump(_ loop: any EventLoop) -> Bool {
            count += 1
            return loop.inEventLoop
        }
    }

    @Test func codeUnderThePreferenceStaysOnTheLoopAcrossAwaits() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let tally = Tally()
        let executor = EventLoopTaskExecutor(loop)
        let seen = await RequestExecutor.$current.withValue(executor) {
            await withTaskExecutorPreference(executor) { () async -> [String: Bool] in
                var seen = ["start": loop.inEventLoop]
                try? await Task.sleep(for: .milliseconds(5))
                seen["after a sleep"] = loop.inEventLoop
                seen["in a default actor"] = await tally.bump(loop)
                seen["after the actor"] = loop.inEventLoop
                // A continuation resumed from another thread.
                await withCheckedContinuation { continuation in
                    Thread { continuation.resume() }.start()
                }
                seen["after a continuation resumed elsewhere"] = loop.inEventLoop
                async let child = loop.inEventLoop
                seen["in async let"] = await child
                seen["in a task group's child"] = await withTaskGroup(of: Bool.self) { children in
                    children.addTask { loop.inEventLoop }
                    return await children.next() ?? false
                }
                seen["in a task preferring the request's executor"] =
                    await Task(executorPreference: RequestExecutor.current) { loop.inEventLoop }.value
                return seen
            }
        }
        #expect(seen.count == 8)
        for (place, onLoop) in seen { #expect(onLoop, "not on the loop \(place)") }
        // Outside the preference, an unstructured task runs on the cooperative pool, as before.
        #expect(await Task { loop.inEventLoop }.value == false)
    }

    @Test func aRequestIsHandledOnItsConnectionsLoopThroughAnUpstreamCall() async throws {
        let router = Router(context: ParleyRequestContext.self)
        router.get("/upstream") { _, _ in "pong" }
        // `port` is set once the server listens; the handler calls the server itself as an upstream, with an
        // HTTP client on the same event loops (as Parley's upstream client is).
        let port = Mutex(0)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        router.get("/where") { _, context -> String in
            let loop = context.channel.eventLoop
            var places: [String] = []
            if !loop.inEventLoop { places.append("handler") }
            let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port.withLock { $0 })/upstream"),
                                                    timeout: .seconds(10))
            if !loop.inEventLoop { places.append("after the upstream's head") }
            _ = try await response.body.collect(upTo: 1024)
            if !loop.inEventLoop { places.append("after the upstream's body") }
            let started = await Task(executorPreference: RequestExecutor.current) { loop.inEventLoop }.value
            if !started { places.append("a task the request started") }
            return places.isEmpty ? "on the loop" : "off the loop: " + places.joined(separator: ", ")
        }
        let app = Application(router: router, server: ParleyApplication.serverBuilder,
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port ?? 0 } })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            while port.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(10)) }
            for _ in 0..<20 {
                let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port.withLock { $0 })/where"),
                                                        timeout: .seconds(10))
                let body = try await response.body.collect(upTo: 1024)
                #expect(String(buffer: body) == "on the loop")
            }
            group.cancelAll()
        }
        try await client.shutdown()
    }
}
