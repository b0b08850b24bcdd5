import Foundation
import ParleyCore
import ParleyMockLLM
import ParleyTestSupport
import Testing

/// SIGTERM to one of two real `parley serve` replicas on one PostgreSQL: readiness turns 503 at once, new answers
/// are refused there with a retryable 503, running streams get the grace, and a stream still open when it ends
/// gets a `reattach` event (an answer's) or an error event (a `/v1` stream); the client reattaches to the other
/// replica and gets the rest of the answer, nothing lost and nothing twice.
@Suite(.serialized) struct DrainTests {
    @Test(.enabled(if: PostgresReplicaTests.enabled, "PostgreSQL binaries not found; set PARLEY_REQUIRE_SERVICES=1 to make this a failure"))
    func aReplicaThatIsStoppedDrainsAndHandsItsStreamsOver() async throws {
        let postgres = try await PostgresTestServer.start()
        defer { postgres.stop() }
        try await postgres.createDatabase("drain")
        let mock = try await PostgresReplicaTests.mock(tokens: 400, delayMs: 15)
        defer { Task { try? await mock.stop() } }
        let upstream = "http://127.0.0.1:\(mock.port)/v1"
        let database = postgres.url(database: "drain")
        let (processA, a) = try await PostgresReplicaTests.replica(database, upstream: upstream, log: postgres.directory + "/a.log")
        let (processB, b) = try await PostgresReplicaTests.replica(database, upstream: upstream, log: postgres.directory + "/b.log",
                                                                   extra: ["--shutdown-grace", "2"])
        defer {
            processA.stop(signal: SIGKILL)
            processB.stop(signal: SIGKILL)
            Task { try? await a.shutdown(); try? await b.shutdown() }
        }
        let key = try #require(b.credentials.current["Authorization"])

        // An answer generated on A (about 6 s), followed through B; a /v1 stream through B.
        let conversation = try await a.createConversation()
        let posted = try await a.events(.POST, "/api/v1/conversations/\(conversation)/messages", body: #"{"content":"a story"}"#)
        let head = try await posted.read { $0.name == "delta" }
        let assistant = try #require(head[1].data["id"] as? String)
        posted.cancel()
        let followed = try await b.events(.GET, "/api/v1/messages/\(assistant)/events")
        var seen = try await followed.read { $0.name == "delta" }
        let gateway = try await b.events(.POST, "/v1/chat/completions",
                                         body: #"{"model":"mock-1","stream":true,"messages":[{"role":"user","content":"long"}]}"#,
                                         headers: ["Authorization": key])
        #expect(gateway.status == 200)
        _ = try await gateway.next()

        processB.send(SIGTERM)
        let stoppedAt = ContinuousClock.now
        var ready = try await b.request(.GET, "/health/ready")
        while ready.status == 200, stoppedAt.duration(to: .now) < .seconds(1) {
            try await Task.sleep(for: .milliseconds(20))
            ready = try await b.request(.GET, "/health/ready")
        }
        #expect(ready.status == 503 && ready.json["status"] as? String == "draining", "\(ready.status) \(ready.body)")
        let refused = try await b.request(.POST, "/api/v1/conversations/\(conversation)/messages", body: #"{"content":"more"}"#)
        #expect(refused.status == 503 && refused.headers["retry-after"] == "1" && refused.body.contains("shutting_down"),
                "\(refused.status) \(refused.body)")
        let refusedCall = try await b.request(.POST, "/v1/chat/completions",
                                              body: #"{"model":"mock-1","messages":[{"role":"user","content":"hi"}]}"#,
                                              headers: ["Authorization": key])
        #expect(refusedCall.status == 503 && refusedCall.body.contains("shutting_down"))

        // When the grace (2 s) is over, B's streams end: the answer's with `reattach`, the /v1 one with an error.
        seen += try await followed.rest()
        let ended = stoppedAt.duration(to: .now)
        #expect(ended >= .seconds(1.5) && ended < .seconds(5), "ended \(ended) after SIGTERM")
        #expect(seen.last?.name == "reattach" && !seen.contains { $0.name == "done" }, "\(seen.suffix(2).map(\.name))")
        let gatewayRest = try await gateway.rest()
        #expect(gatewayRest.last?.rawData.contains("shutting down") == true && !gatewayRest.contains { $0.rawData == "[DONE]" },
                "\(gatewayRest.suffix(1).map(\.rawData))")

        // The client reattaches (the balancer now sends it to A) and gets the rest, nothing twice.
        let lastSeen = try #require(seen.last { $0.id != nil }?.id)
        let resumed = try await a.events(.GET, "/api/v1/messages/\(assistant)/events", headers: ["Last-Event-ID": "\(lastSeen)"])
        let rest = try await resumed.rest()
        #expect(lastSeen >= GenerationFeed.followerIDs && rest.first?.name == "message", "a follower's id: a snapshot")
        #expect(rest.last?.name == "done" && rest.last?.status == "complete")
        let text = (rest.first?.content ?? "") + rest.deltaText
        let expected = MockScript.replyTokens(count: 400).joined()
        #expect(text == expected, "the answer adds up exactly: \(text.count) of \(expected.count) characters; seen \(seen.prefix(2).map(\.name)) \(seen.count), then \(rest.prefix(2).map(\.name)) \(rest.count), ids \(seen.first?.id ?? -1)…\(lastSeen) \(rest.first?.id ?? -1)…")
        #expect(await processB.waitForExit(within: .seconds(10)), "B exits once drained")
    }
}
