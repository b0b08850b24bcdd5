import Foundation
import ParleyCore
import ParleyServer
import Testing

/// A client that closes its socket mid-stream is let go at once, not at the next token or keep-alive.
@Suite struct ClientLeavesTests {
    @Test(arguments: ["message", "reattach"])
    func aStreamIsDroppedWhenItsClientClosesBeforeAnythingElseIsWritten(way: String) async throws {
        // The upstream's first token is 20 s away and keep-alives 60 s: nothing is written to the client in
        // between, so only the closed socket itself can tell the server the client left.
        try await TestParley.with(configure: { $0.keepAliveInterval = .seconds(60) }) { parley in
            let conversationID = try await parley.createConversation()
            let body = #"{"content":"mock:ttft_ms=20000 wait for it"}"#
            var exchange = try await RawHTTP.exchange(port: parley.port, HardeningTests.request(
                "POST", "/api/v1/conversations/\(conversationID)/messages", port: parley.port,
                headers: parley.credentials.current.merging(["Content-Type": "application/json"]) { $1 }, body: body)) {
                    $0.contains("event: message")
                }
            let messageID = try #require(exchange.header("X-Parley-Message-Id").flatMap(UUID.init(uuidString:)), "\(exchange)")
            let server = try #require(parley.server.service as? ParleyApplication)
            let job = try #require(server.hub.job(for: messageID))
            if way == "reattach" {
                // The first stream is gone; a second client reattaches, then leaves the same way.
                try await Self.waitUntilNoSubscribers(job)
                exchange = try await RawHTTP.exchange(port: parley.port, HardeningTests.request(
                    "GET", "/api/v1/messages/\(messageID.uuidString.lowercased())/events", port: parley.port,
                    headers: parley.credentials.current.merging(["Last-Event-ID": "0"]) { $1 })) { $0.contains("event: message") }
                #expect(exchange.status == 200, "\(exchange)")
            }
            let left = ContinuousClock.now
            try await Self.waitUntilNoSubscribers(job)
            let noticed = left.duration(to: .now)
            // Still before the first token: nothing was written that could have failed.
            let stored = try await parley.request(.GET, "/api/v1/messages/\(messageID.uuidString.lowercased())").json
            #expect(stored["status"] as? String == "streaming", "\(stored)")
            #expect((stored["content"] as? String ?? "").isEmpty, "\(stored)")
            print("client close noticed after \(noticed) (\(way))")
        }
    }

    /// On `/v1`, a client that leaves while the upstream has not sent its first token yet ends the upstream call
    /// at once (the mock counts the stream abandoned), instead of holding it until the first token or keep-alive.
    @Test func aGatewayStreamStopsItsUpstreamCallWhenTheClientCloses() async throws {
        try await TestParley.with(configure: { $0.keepAliveInterval = .seconds(60) }) { parley in
            let mock = try #require(parley.mockServer)
            let body = #"{"model":"mock-1","stream":true,"messages":[{"role":"user","content":"mock:ttft_ms=20000 hi"}]}"#
            // Nothing comes back before the first token: send, wait a little, close.
            let exchange = try await RawHTTP.exchange(port: parley.port, HardeningTests.request(
                "POST", "/v1/chat/completions", port: parley.port,
                headers: parley.credentials.current.merging(["Content-Type": "application/json"]) { $1 }, body: body),
                wait: .milliseconds(500))
            #expect(!exchange.closedByServer, "\(exchange)")
            let left = ContinuousClock.now
            var abandoned = 0
            while abandoned == 0, left.duration(to: .now) < .seconds(10) {
                try await Task.sleep(for: .milliseconds(20))
                abandoned = mock.counters.snapshot["streams_abandoned"] ?? 0
            }
            // The first token was 20 s away: only the client's departure can have ended the call this soon.
            #expect(abandoned == 1, "the upstream call outlived the client")
            print("upstream call ended \(left.duration(to: .now)) after the client left")
        }
    }

    /// Polls until nobody follows `job`; fails after 10 s (the first token is due at 20 s).
    static func waitUntilNoSubscribers(_ job: GenerationJob) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while job.subscriberCount > 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(2))
        }
        #expect(job.subscriberCount == 0, "the server still streams to a client that closed its socket")
    }
}
