import Foundation
import Logging
import NIOCore
import ParleyCore
import ParleyMockLLM
import ParleyTestSupport
@testable import ParleyRedis
import Testing

/// The RESP client against a real `redis-server` started for each test.
@Suite struct RedisClientTests {
    static let reason: Comment = "redis-server not found; set PARLEY_REQUIRE_SERVICES=1 to make this a failure"

    static func client(_ server: RedisTestServer, timeout: Duration = .milliseconds(500), poolSize: Int = 2) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: server.url)
        configuration.commandTimeout = timeout
        configuration.poolSize = poolSize
        return RedisClient(configuration)
    }

    @Test(.enabled(if: RedisTestServer.enabled, reason))
    func commandsAndPipelining() async throws {
        let server = try await RedisTestServer.start()
        defer { server.stop() }
        let client = try Self.client(server)
        defer { client.close() }
        #expect(try await client.send(["SET", "greeting", "hello"]) == .simple("OK"))
        #expect(try await client.send(["GET", "greeting"]).string == "hello")
        #expect(try await client.send(["GET", "missing"]).isNull)
        await #expect(throws: RedisError.server("WRONGTYPE Operation against a key holding the wrong kind of value")) {
            try await client.send(["LPUSH", "greeting", "x"])
        }
        // A thousand commands in one write come back in order; an error reply among them stays in its place.
        var commands: [[RESPArgument]] = (0..<1000).map { ["INCRBY", "counter", .int($0)] }
        commands.insert(["NOSUCHCOMMAND"], at: 500)
        let replies = try await client.pipeline(commands)
        #expect(replies.count == 1001)
        #expect(replies[0] == .integer(0) && replies[1000] == .integer(499_500))
        if case .error = replies[500] {} else { Issue.record("expected an error reply, got \(replies[500])") }
        // Many callers at once share the pool.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    let value = "v\(index)"
                    try await client.send(["SET", .text("key\(index)"), .text(value)])
                    let read = try await client.send(["GET", .text("key\(index)")])
                    #expect(read.string == value)
                }
            }
            try await group.waitForAll()
        }
    }

    @Test(.enabled(if: RedisTestServer.enabled, reason))
    func authenticatesSelectsAndRefusesWrongPasswords() async throws {
        let server = try await RedisTestServer.start(password: "s3cret")
        defer { server.stop() }
        var configuration = try RedisConfiguration(url: "redis://:s3cret@127.0.0.1:\(server.port)/2")
        let client = RedisClient(configuration)
        defer { client.close() }
        try await client.send(["SET", "where", "db2"])
        let other = RedisClient(try RedisConfiguration(url: "redis://:s3cret@127.0.0.1:\(server.port)/0"))
        defer { other.close() }
        #expect(try await other.send(["GET", "where"]).isNull)
        configuration.password = "wrong"
        let refused = RedisClient(configuration)
        defer { refused.close() }
        do {
            try await refused.send(["PING"])
            Issue.record("a wrong password was accepted")
        } catch let error as RedisError {
            guard case .unavailable(let detail) = error else { Issue.record("\(error)"); return }
            #expect(!detail.contains("wrong"), "the password must not appear in errors")
        }
    }

    @Test(.enabled(if: RedisTestServer.enabled, reason))
    func scriptsLoadThemselvesWhenTheServerLacksThem() async throws {
        let server = try await RedisTestServer.start()
        defer { server.stop() }
        let client = try Self.client(server)
        defer { client.close() }
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        #expect(try await client.run(script, keys: ["n"], arguments: [.int(5)]) == .integer(5))
        try await client.send(["SCRIPT", "FLUSH"])
        #expect(try await client.run(script, keys: ["n"], arguments: [.int(2)]) == .integer(7))
        let scripts = try await client.send(["SCRIPT", "EXISTS", .text(script.sha1)])
        #expect(scripts.elements == [.integer(1)], "EVAL loads the script, so EVALSHA works again")
    }

    @Test(.enabled(if: RedisTestServer.enabled, reason))
    func aSlowReplyTimesOutAndTheNextCallGetsAFreshConnection() async throws {
        let server = try await RedisTestServer.start()
        defer { server.stop() }
        let client = try Self.client(server, timeout: .milliseconds(200), poolSize: 1)
        defer { client.close() }
        try await client.send(["PING"])
        await #expect(throws: RedisError.timeout) { try await client.send(["DEBUG", "SLEEP", "1"]) }
        try await Task.sleep(for: .seconds(1))
        #expect(try await client.send(["PING"]) == .simple("PONG"))
    }

    @Test(.enabled(if: RedisTestServer.enabled, reason))
    func anOutageFailsFastAndTheClientReconnectsByItself() async throws {
        let server = try await RedisTestServer.start()
        defer { server.stop() }
        let client = try Self.client(server)
        defer { client.close() }
        try await client.send(["SET", "k", "v"])
        await server.kill()
        let started = ContinuousClock.now
        for _ in 0..<20 {
            await #expect(throws: RedisError.self) { try await client.send(["GET", "k"]) }
        }
        // Twenty calls to a dead server cost one connect attempt per backoff, not twenty timeouts.
        #expect(ContinuousClock.now - started < .seconds(5))
        try await server.resume()
        var recovered = false
        for _ in 0..<50 where !recovered {
            recovered = (try? await client.send(["PING"])) == .simple("PONG")
            if !recovered { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(recovered)
    }

    @Test(.enabled(if: RedisTestServer.enabled, reason))
    func eventBusCarriesNoticesBetweenReplicas() async throws {
        let server = try await RedisTestServer.start()
        defer { server.stop() }
        var logger = Logger(label: "test")
        logger.logLevel = .error
        let (clientA, clientB) = (try Self.client(server), try Self.client(server))
        defer { clientA.close(); clientB.close() }
        let boardB = NoticeBoard()
        let busA = RedisEventBus(client: clientA, board: NoticeBoard(), logger: logger)
        let busB = RedisEventBus(client: clientB, board: boardB, logger: logger)
        let listener = Task { await busB.run() }
        defer { listener.cancel() }
        let id = UUID()
        let subscription = boardB.watch(id)
        defer { subscription.cancel() }
        // The subscriber connects in the background: publish until the first notice gets through.
        let notice = BusNotice.progress(messageID: id, offset: 0, text: "héllo\nworld")
        var received: [BusNotice] = []
        for _ in 0..<100 where received.isEmpty {
            await busA.publish([notice])
            received = await subscription.next(timeout: .milliseconds(50))
        }
        #expect(received.first == notice)
    }
}
