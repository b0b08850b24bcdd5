import Foundation
import ParleyMockLLM
import Testing

/// Signing a user out ends the streams they have open, at once: a revoked key closes the streams opened with
/// that key, a changed password those opened with a session, a disabled account all of them. Through the real
/// HTTP server: the change goes over the event bus to the replica's open streams (here the replica's own).
@Suite struct SignOutEndsStreamsTests {
    static var slowMock: MockLLMServer.Options {
        var options = MockLLMServer.Options()
        options.defaults = MockScript(tokens: 3000, tokenDelayMs: 10)
        return options
    }

    static let gatewayBody = #"{"model":"mock-1","stream":true,"messages":[{"role":"user","content":"a long one"}]}"#

    /// Waits for the stream to end; true when it ended within a second, without its normal ending.
    static func endsSoon(_ stream: EventReader, _ what: String) async -> Bool {
        let from = ContinuousClock.now
        let rest = (try? await stream.rest()) ?? []
        let took = from.duration(to: .now)
        let finished = rest.contains { $0.name == "done" || $0.rawData == "[DONE]" }
        #expect(took <= .seconds(1) && !finished, "\(what): ended after \(took), finished normally: \(finished)")
        return took <= .seconds(1) && !finished
    }

    /// True when the stream still delivers.
    static func stillFlows(_ stream: EventReader) async throws -> Bool {
        for _ in 0..<3 { guard try await stream.next() != nil else { return false } }
        return true
    }

    @Test func revokingAKeyChangingThePasswordAndDisablingEachEndTheirStreams() async throws {
        try await TestParley.with(mockOptions: Self.slowMock) { parley in
            let admin = try await parley.signIn(email: TestUsers.adminEmail)
            let bob = try await parley.createUser("bob@example.com", by: admin)
            let first = try await parley.newKey(bob, name: "first")
            let second = try await parley.newKey(bob, name: "second")
            let conversation = try #require(try await parley.request(.POST, "/api/v1/conversations", body: "{}",
                                                                     headers: bob.headers).json["id"] as? String)
            let viaSession = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                                     body: #"{"content":"a long story"}"#, headers: bob.headers)
            let viaFirst = try await parley.events(.POST, "/v1/chat/completions", body: Self.gatewayBody,
                                                   headers: ["Authorization": "Bearer " + first])
            let viaSecond = try await parley.events(.POST, "/v1/chat/completions", body: Self.gatewayBody,
                                                    headers: ["Authorization": "Bearer " + second])
            #expect([viaSession, viaFirst, viaSecond].allSatisfy { $0.status == 200 })
            _ = try await viaSession.read { $0.name == "delta" }
            _ = try await viaFirst.next()
            _ = try await viaSecond.next()

            // Revoking the first key ends its stream only.
            let keys = try #require(try await parley.request(.GET, "/api/v1/account/keys", headers: bob.headers)
                .json["data"] as? [[String: any Sendable]])
            let firstID = try #require(keys.first { $0["name"] as? String == "first" }?["id"] as? String)
            #expect(try await parley.request(.DELETE, "/api/v1/account/keys/\(firstID)", headers: bob.headers).status == 204)
            #expect(await Self.endsSoon(viaFirst, "the revoked key's stream"))
            #expect(try await Self.stillFlows(viaSession), "the session's stream goes on")
            #expect(try await Self.stillFlows(viaSecond), "the other key's stream goes on")

            // A new password ends every session, and so the session's stream; the key's stream goes on.
            let changed = try await parley.request(.POST, "/api/v1/account/password",
                                                   body: #"{"current_password":"\#(TestUsers.password)","new_password":"another long pass phrase"}"#,
                                                   headers: bob.headers)
            #expect(changed.status == 200, "\(changed.body)")
            #expect(await Self.endsSoon(viaSession, "the session's stream"))
            #expect(try await Self.stillFlows(viaSecond))

            // Disabling the account ends the rest, and the upstream call behind it stops.
            let abandonedBefore = parley.mockServer?.counters.snapshot["streams_abandoned"] ?? 0
            #expect(try await parley.request(.PATCH, "/api/v1/admin/users/\(bob.userID)", body: #"{"role":"disabled"}"#,
                                             headers: admin.headers).status == 200)
            #expect(await Self.endsSoon(viaSecond, "the disabled user's last stream"))
            var abandoned = abandonedBefore
            let deadline = ContinuousClock.now + .seconds(5)
            while abandoned == abandonedBefore, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                abandoned = parley.mockServer?.counters.snapshot["streams_abandoned"] ?? 0
            }
            #expect(abandoned > abandonedBefore, "the upstream call ended with the stream")
        }
    }
}
