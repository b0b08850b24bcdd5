import AsyncHTTPClient
import Foundation
import NIOHTTP1
import ParleyCore
import ParleyMockLLM
import ParleyTestSupport
import Testing

/// Two real `parley serve` processes on one real PostgreSQL: nothing depends on which one a request reaches.
@Suite(.serialized) struct PostgresReplicaTests {
    static var enabled: Bool { PostgresTestServer.binaryDirectory != nil || PostgresTestServer.required }

    /// A `parley serve` on `database`, with a 1 s generation lease so a dead replica is noticed quickly.
    static func replica(_ database: String, upstream: String, log: String, lease: String = "1", extra: [String] = []) async throws
        -> (ChildProcess, TestParley.Client)
    {
        try #require(FileManager.default.isExecutableFile(atPath: CrashRecoveryTests.binary),
                     "build the server first (swift build); looked for \(CrashRecoveryTests.binary)")
        let process = try await ChildProcess.start(
            CrashRecoveryTests.binary,
            ["serve", "--port", "0", "--database", database, "--openai-base-url", upstream, "--flush-interval-ms", "50",
             "--generation-lease", lease, "--database-timeout", "2"] + extra,
            log: log, environment: ["PATH": "/usr/bin:/bin"])
        let client = TestParley.Client(baseURL: "http://127.0.0.1:\(process.port)")
        try await client.actAsAdmin()
        return (process, client)
    }

    static func mock(tokens: Int, delayMs: Int) async throws -> BackgroundService {
        var options = MockLLMServer.Options()
        options.port = 0
        options.defaults = MockScript(tokens: tokens, tokenDelayMs: delayMs)
        return try await MockLLMServer(options: options).start(logger: TestParley.quietLogger)
    }

    @Test(.enabled(if: enabled, "PostgreSQL binaries not found; set PARLEY_REQUIRE_SERVICES=1 to make this a failure"))
    func anyReplicaServesAnyRequest() async throws {
        let postgres = try await PostgresTestServer.start()
        defer { postgres.stop() }
        try await postgres.createDatabase("replicas")
        let mock = try await Self.mock(tokens: 3000, delayMs: 10)
        let upstream = "http://127.0.0.1:\(mock.port)/v1"
        let (processA, a) = try await Self.replica(postgres.url(database: "replicas"), upstream: upstream,
                                                   log: postgres.directory + "/a.log")
        let (processB, b) = try await Self.replica(postgres.url(database: "replicas"), upstream: upstream,
                                                   log: postgres.directory + "/b.log")
        defer {
            processA.stop(signal: SIGKILL)
            processB.stop(signal: SIGKILL)
        }

        // Posted through A, read through B.
        let conversation = try await a.createConversation(#"{"title":"shared"}"#)
        let turn = try await a.chat(conversation, "short one mock:tokens=4")
        #expect(turn.last?.name == "done")
        let page = try await b.request(.GET, "/api/v1/conversations/\(conversation)/messages").decode(MessagePageJSON.self)
        #expect(page.data.map(\.content) == ["short one mock:tokens=4", MockScript.replyTokens(count: 4).joined()])
        #expect(page.data.map(\.status) == ["complete", "complete"])

        // Started on A, followed and then stopped through B.
        let reader = try await a.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                        body: #"{"content":"a long story"}"#)
        let head = try await reader.read { $0.name == "delta" }
        let assistant = try #require(head[1].data["id"] as? String)
        // A client that saw events up to N on A reattaches through B: it continues at N+1 with a snapshot of
        // all text so far, then live deltas.
        let lastSeen = try #require(head.last?.id)
        let reattached = try await b.events(.GET, "/api/v1/messages/\(assistant)/events",
                                            headers: ["Last-Event-ID": "\(lastSeen)"])
        let resumed = try await reattached.read { $0.name == "delta" }
        let followerStart = max(lastSeen + 1, GenerationFeed.followerIDs)
        #expect(resumed.first?.id == followerStart && resumed.first?.name == "message")
        #expect(resumed.last.map { $0.id == followerStart - 1 + resumed.count } == true, "ids keep counting up")
        #expect(MockScript.replyTokens(count: 3000).joined().hasPrefix((resumed.first?.content ?? "") + resumed.deltaText))
        reattached.cancel()
        let followed = try await b.events(.GET, "/api/v1/messages/\(assistant)/events")
        var seenThroughB = try await followed.read { $0.name == "delta" }
        seenThroughB += try await followed.read { $0.name == "delta" }
        #expect(seenThroughB.first?.name == "message" && seenThroughB.filter { $0.name == "delta" }.count >= 2,
                "B streams A's answer as it grows")
        let stopped = try await b.request(.POST, "/api/v1/messages/\(assistant)/stop").decode(MessageJSON.self)
        #expect(stopped.status == "cancelled", "stopped through the replica that does not run it")
        #expect(!stopped.content.isEmpty && MockScript.replyTokens(count: 3000).joined().hasPrefix(stopped.content))
        let restOnA = try await reader.rest()
        #expect(restOnA.last?.name == "done" && restOnA.last?.status == "cancelled",
                "A's own stream ends with the stop")
        seenThroughB += try await followed.rest()
        #expect(seenThroughB.last?.name == "done" && seenThroughB.last?.status == "cancelled")
        let assembled = (seenThroughB.first?.content ?? "") + seenThroughB.deltaText
        #expect(assembled == stopped.content, "B's stream adds up to exactly the stored text")

        // Accounts are shared: a session made on A works on B, and a user disabled through A is refused on B
        // within a second, and the streams they have open on B end at once (the change crosses the event bus).
        let adminOnA = try await a.signIn(email: TestUsers.adminEmail)
        #expect(try await b.request(.GET, "/api/v1/account", headers: adminOnA.cookie).status == 200)
        let bob = try await a.createUser("bob@example.com", by: adminOnA)
        let bobKey = ["Authorization": "Bearer " + (try await a.newKey(bob))]
        #expect(try await b.request(.GET, "/api/v1/conversations", headers: bobKey).status == 200)
        #expect(try await b.request(.GET, "/api/v1/conversations", headers: bob.cookie).status == 200)
        let bobsChat = try #require(try await b.request(.POST, "/api/v1/conversations", body: "{}", headers: bob.headers)
            .json["id"] as? String)
        let bobsAnswer = try await b.events(.POST, "/api/v1/conversations/\(bobsChat)/messages",
                                            body: #"{"content":"a long story"}"#, headers: bob.headers)
        let bobsGateway = try await b.events(.POST, "/v1/chat/completions",
                                             body: #"{"model":"mock-1","stream":true,"messages":[{"role":"user","content":"long"}]}"#,
                                             headers: bobKey)
        #expect(bobsAnswer.status == 200 && bobsGateway.status == 200)
        _ = try await bobsAnswer.read { $0.name == "delta" }
        _ = try await bobsGateway.next()
        #expect(try await a.request(.PATCH, "/api/v1/admin/users/\(bob.userID)", body: #"{"role":"disabled"}"#,
                                    headers: adminOnA.headers).status == 200)
        let disabledAt = ContinuousClock.now
        for stream in [bobsAnswer, bobsGateway] {
            let rest = (try? await stream.rest()) ?? []
            let took = disabledAt.duration(to: .now)
            #expect(took <= .seconds(1), "B closed the disabled user's stream after \(took)")
            #expect(!rest.contains { $0.name == "done" || $0.rawData == "[DONE]" }, "closed, not finished")
        }
        var refusedOnB = false
        while !refusedOnB, disabledAt.duration(to: .now) < .seconds(5) {
            refusedOnB = try await b.request(.GET, "/api/v1/conversations", headers: bobKey).status == 403
            if !refusedOnB { try await Task.sleep(for: .milliseconds(20)) }
        }
        let took = disabledAt.duration(to: .now)
        #expect(refusedOnB && took <= .milliseconds(1500), "B refused the disabled user after \(took)")
        #expect(try await b.request(.GET, "/api/v1/conversations", headers: bob.cookie).status == 401, "and ended their session")

        // A dies mid-answer: B marks the answer interrupted once A's lease lapses.
        let orphan = try await a.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                        body: #"{"content":"another long story"}"#)
        let orphanHead = try await orphan.read { $0.name == "delta" }
        let orphanID = try #require(orphanHead[1].data["id"] as? String)
        _ = try await b.waitForMessage(orphanID) { !(($0["content"] as? String) ?? "").isEmpty }
        processA.stop(signal: SIGKILL)
        orphan.cancel()
        let reaped = try await b.waitForMessage(orphanID, timeout: .seconds(10)) { ($0["status"] as? String) != "streaming" }
        #expect(reaped["status"] as? String == "interrupted")
        #expect(!((reaped["content"] as? String) ?? "").isEmpty, "the text A flushed survives")

        try await a.shutdown()
        try await b.shutdown()
        try await mock.stop()
    }

    @Test(.enabled(if: enabled, "PostgreSQL binaries not found; set PARLEY_REQUIRE_SERVICES=1 to make this a failure"))
    func aDatabaseOutageGives503sAndServiceResumesWithoutARestart() async throws {
        let postgres = try await PostgresTestServer.start()
        defer { postgres.stop() }
        try await postgres.createDatabase("outage")
        let mock = try await Self.mock(tokens: 5, delayMs: 0)
        let (process, parley) = try await Self.replica(postgres.url(database: "outage"),
                                                       upstream: "http://127.0.0.1:\(mock.port)/v1",
                                                       log: postgres.directory + "/parley.log", lease: "15")
        defer { process.stop(signal: SIGKILL) }
        let conversation = try await parley.createConversation()
        #expect(try await parley.request(.GET, "/health/ready").status == 200)
        // An answer in flight when the database goes away: it ends during the outage, its final write is
        // retried until the database is back, and nothing of it is lost.
        let inFlight = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                               body: #"{"content":"across the outage mock:tokens=80 mock:delay_ms=50"}"#)
        let inFlightHead = try await inFlight.read { $0.name == "delta" }
        let inFlightID = try #require(inFlightHead[1].data["id"] as? String)

        try await postgres.pause()
        let notReady = try await Self.poll(parley, "/health/ready", until: 503)
        #expect(notReady.status == 503 && notReady.json["database"] as? String == "unreachable")
        let requests: [(HTTPMethod, String, String?)] = [
            (.GET, "/api/v1/conversations", nil),
            (.GET, "/api/v1/conversations/\(conversation)/messages", nil),
            (.POST, "/api/v1/conversations", "{}"),
            (.POST, "/api/v1/conversations/\(conversation)/messages", #"{"content":"hi"}"#),
        ]
        for (method, path, body) in requests {
            let reply = try await parley.request(method, path, body: body)
            #expect(reply.status == 503, "\(path) during the outage: \(reply.status) \(reply.body)")
            #expect(reply.errorType == "unavailable" && (reply.errorMessage ?? "").contains("database"))
        }
        #expect(process.process.isRunning, "no crash")
        // Let the answer in flight reach its end while the database is still down (its final write must wait).
        var deltas = inFlightHead.filter { $0.name == "delta" }.count
        let beforeEnd = try await inFlight.read { event in
            if event.name == "delta" { deltas += 1 }
            return deltas >= 80 || event.name == "done" || event.name == "error"
        }
        #expect(beforeEnd.last?.name == "delta", "all 80 tokens streamed during the outage, not yet stored")
        try await Task.sleep(for: .milliseconds(600))

        try await postgres.resume()
        let ready = try await Self.poll(parley, "/health/ready", until: 200)
        #expect(ready.status == 200)
        let survived = try await inFlight.rest()
        #expect(survived.last?.name == "done" && survived.last?.status == "complete")
        let stored = try await parley.request(.GET, "/api/v1/messages/\(inFlightID)").decode(MessageJSON.self)
        #expect(stored.status == "complete" && stored.content == MockScript.replyTokens(count: 80).joined())
        let turn = try await parley.chat(conversation, "back again")
        #expect(turn.last?.name == "done" && turn.last?.status == "complete")
        let list = try await parley.request(.GET, "/api/v1/conversations")
        #expect(list.status == 200)

        try await parley.shutdown()
        try await mock.stop()
    }

    @Test(.enabled(if: enabled, "PostgreSQL binaries not found; set PARLEY_REQUIRE_SERVICES=1 to make this a failure"))
    func replicasMigratingAtOnceMigrateOnce() async throws {
        let postgres = try await PostgresTestServer.start()
        defer { postgres.stop() }
        try await postgres.createDatabase("migrations")
        let url = postgres.url(database: "migrations")
        async let first = Self.runParley(["migrate", "--database", url])
        async let second = Self.runParley(["migrate", "--database", url])
        async let third = Self.runParley(["migrate", "--database", url])
        let statuses = try await [first, second, third]
        #expect(statuses == [0, 0, 0], "every replica's migrate succeeds")
        // The schema is whole: a server starts on it and serves.
        let mock = try await Self.mock(tokens: 3, delayMs: 0)
        let (process, parley) = try await Self.replica(url, upstream: "http://127.0.0.1:\(mock.port)/v1",
                                                       log: postgres.directory + "/parley.log")
        defer { process.stop(signal: SIGKILL) }
        let conversation = try await parley.createConversation()
        #expect(try await parley.chat(conversation, "hello").last?.name == "done")
        #expect(try await Self.runParley(["migrate", "--database", "mysql://nope"]) != 0, "a bad URL fails clearly")
        try await parley.shutdown()
        try await mock.stop()
    }

    /// Runs `parley` with arguments to completion and returns its exit status.
    static func runParley(_ arguments: [String]) async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CrashRecoveryTests.binary)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        return try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
    }

    /// Polls `path` until it answers `status` (or 20 s pass) and returns the last reply.
    static func poll(_ parley: TestParley.Client, _ path: String, until status: Int) async throws -> APIReply {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            let reply = try await parley.request(.GET, path)
            if reply.status == status || ContinuousClock.now > deadline { return reply }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

