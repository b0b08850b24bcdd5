import Foundation
import ParleyServer
import Testing

/// Read-only links through the real server: the owner makes one, its address shows the conversation as it was
/// (later messages stay private) to whom the owner chose, revoking closes it, and bad input gets clear errors.
@Suite struct ShareAPITests {
    @Test func aLinkShowsTheConversationAsSharedToWhomItsOwnerChose() async throws {
        try await TestParley.with { parley in
            let conversation = try await parley.createConversation(#"{"title":"Trip plans"}"#)
            let empty = try await parley.request(.POST, "/api/v1/conversations/\(conversation)/shares", body: #"{"audience":"anyone"}"#)
            #expect(empty.status == 409, "nothing to share yet: \(empty.body)")
            _ = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                        body: #"{"content":"where to in spring? mock:tokens=3"}"#).rest()

            let made = try await parley.request(.POST, "/api/v1/conversations/\(conversation)/shares", body: #"{"audience":"anyone"}"#)
            #expect(made.status == 201 && made.headers["cache-control"] == "no-store", "\(made.body)")
            let token = try #require(made.json["token"] as? String)
            let shareID = try #require(made.json["id"] as? String)
            #expect(made.json["url"] as? String == "/s/\(token)" && made.json["through_index"] as? Int == 2)
            // Later messages are not part of the link.
            _ = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                        body: #"{"content":"a private afterthought mock:tokens=2"}"#).rest()

            let nobody = ["Authorization": ""]
            let head = try await parley.request(.GET, "/api/v1/shared/\(token)", headers: nobody)
            #expect(head.status == 200 && head.json["title"] as? String == "Trip plans" && head.json["audience"] as? String == "anyone")
            #expect(head.headers["cache-control"] == "private, no-cache")
            let messages = try await parley.request(.GET, "/api/v1/shared/\(token)/messages", headers: nobody)
            let shown = try #require(messages.json["data"] as? [[String: Any]])
            #expect(shown.map { $0["role"] as? String } == ["user", "assistant"], "\(messages.body)")
            #expect(shown.first?["content"] as? String == "where to in spring? mock:tokens=3")
            #expect(!messages.body.contains("afterthought") && !messages.body.contains(conversation) && shown.allSatisfy { $0["id"] == nil })
            let paged = try await parley.request(.GET, "/api/v1/shared/\(token)/messages?limit=1", headers: nobody)
            #expect((paged.json["data"] as? [[String: Any]])?.map { $0["role"] as? String } == ["assistant"])
            #expect(paged.json["has_more"] as? Bool == true && paged.json["next_before"] as? Int == 2)
            let earlier = try await parley.request(.GET, "/api/v1/shared/\(token)/messages?before=2", headers: nobody)
            #expect((earlier.json["data"] as? [[String: Any]])?.map { $0["role"] as? String } == ["user"])
            let beyond = try await parley.request(.GET, "/api/v1/shared/\(token)/messages?before=99", headers: nobody)
            #expect(!beyond.body.contains("afterthought"), "paging past the link's end shows nothing newer")

            // Its page: read-only, not framed, its address never sent on.
            let page = try await parley.request(.GET, "/s/\(token)", headers: nobody)
            #expect(page.status == 200 && page.body.contains("shared.js") && page.headers["referrer-policy"] == "no-referrer")
            #expect(page.headers["content-security-policy"]?.contains("frame-ancestors 'none'") == true)

            // The owner's list never shows the token again.
            let list = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/shares")
            #expect((list.json["data"] as? [[String: Any]])?.map { $0["id"] as? String } == [shareID] && !list.body.contains(token))

            // A link for signed-in users answers them, not a stranger.
            let inner = try await parley.request(.POST, "/api/v1/conversations/\(conversation)/shares", body: #"{"audience":"signed_in"}"#)
            let innerToken = try #require(inner.json["token"] as? String)
            #expect(inner.json["through_index"] as? Int == 4)
            #expect(try await parley.request(.GET, "/api/v1/shared/\(innerToken)", headers: nobody).status == 401)
            let admin = try await parley.signIn(email: TestUsers.adminEmail)
            let bob = try await parley.createUser("bob@example.com", by: admin)
            let bobReads = try await parley.request(.GET, "/api/v1/shared/\(innerToken)/messages", headers: bob.headers)
            #expect(bobReads.status == 200 && bobReads.body.contains("afterthought"))
            #expect(try await parley.request(.GET, "/api/v1/conversations/\(conversation)", headers: bob.headers).status == 404,
                    "a link opens the shared view, not the conversation")
            #expect(try await parley.request(.DELETE, "/api/v1/conversations/\(conversation)/shares/\(shareID)", headers: bob.headers).status == 404)

            // Revoked, the link is gone at once.
            #expect(try await parley.request(.DELETE, "/api/v1/conversations/\(conversation)/shares/\(shareID)").status == 204)
            #expect(try await parley.request(.GET, "/api/v1/shared/\(token)", headers: nobody).status == 404)
            #expect(try await parley.request(.DELETE, "/api/v1/conversations/\(conversation)/shares/\(shareID)").status == 404)
            // Deleting the conversation closes its links.
            #expect(try await parley.request(.DELETE, "/api/v1/conversations/\(conversation)").status == 204)
            #expect(try await parley.request(.GET, "/api/v1/shared/\(innerToken)", headers: bob.headers).status == 404)
        }
    }

    @Test func badInputGetsClearErrors() async throws {
        try await TestParley.with { parley in
            let conversation = try await parley.createConversation()
            _ = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages", body: #"{"content":"hi mock:tokens=1"}"#).rest()
            let shares = "/api/v1/conversations/\(conversation)/shares"
            // (the last field: words the error message must name)
            let cases: [(String, APIReply, Int, String?)] = [
                ("an unknown audience", try await parley.request(.POST, shares, body: #"{"audience":"everyone"}"#), 400, "'audience'"),
                ("a number", try await parley.request(.POST, shares, body: #"{"audience":1}"#), 400, nil),
                ("not JSON", try await parley.request(.POST, shares, body: "{"), 400, nil),
                ("a bad conversation id", try await parley.request(.POST, "/api/v1/conversations/nope/shares", body: "{}"), 404, nil),
                ("an unknown conversation", try await parley.request(.POST, "/api/v1/conversations/\(UUID().uuidString)/shares", body: "{}"), 404, nil),
                ("a bad share id", try await parley.request(.DELETE, shares + "/nope"), 404, nil),
                ("a short token", try await parley.request(.GET, "/api/v1/shared/abc", headers: ["Authorization": ""]), 404, nil),
                ("a page of 0", try await parley.request(.GET, "/api/v1/shared/\(String(repeating: "A", count: 43))/messages?limit=0",
                                                         headers: ["Authorization": ""]), 404, nil),
            ]
            for (name, reply, status, param) in cases {
                #expect(reply.status == status, "\(name): \(reply.status) \(reply.body)")
                #expect(reply.errorMessage?.isEmpty == false, "\(name): a JSON error: \(reply.body)")
                if let named = param { #expect(reply.errorMessage?.contains(named) == true, "\(name): \(reply.body)") }
            }
            // A link made without an audience is for signed-in users; twenty is the most per conversation.
            let plain = try await parley.request(.POST, shares, body: "{}")
            #expect(plain.status == 201 && plain.json["audience"] as? String == "signed_in")
            for _ in 1..<20 { #expect(try await parley.request(.POST, shares, body: "{}").status == 201) }
            let over = try await parley.request(.POST, shares, body: "{}")
            #expect(over.status == 409 && over.errorMessage?.contains("at most 20") == true, "\(over.body)")
            // A bad page size on a real link.
            let token = try #require(plain.json["token"] as? String)
            #expect(try await parley.request(.GET, "/api/v1/shared/\(token)/messages?limit=0").status == 400)
        }
    }
}
