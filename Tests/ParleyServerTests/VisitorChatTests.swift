import Foundation
import ParleyServer
import Testing

/// Published assistants through the real server: anonymous visitors chat at the public address with only their
/// own chat in reach, rate answers and ask for a person; the owner reads those chats, ratings and requests;
/// withdrawing the assistant closes them; bad input and floods get clear 4xx errors.
@Suite struct VisitorChatTests {
    /// No credentials at all: what a visitor's browser sends.
    static let anonymous = ["Authorization": "", "Cookie": ""]

    static func start(visitorRate: Int = 100) async throws -> TestParley {
        try await TestParley.start { config in
            config.knowledge.embeddingModel = nil
            config.visitorTurnsPerMinute = visitorRate
        }
    }

    /// The owner's published assistant answering from the router guide; its id and public address.
    static func publish(_ parley: TestParley) async throws -> (id: String, slug: String, baseID: String) {
        let baseID = try #require(try await parley.createBase(#"{"name":"Router docs"}"#)["id"] as? String)
        let upload = try await parley.upload(baseID, name: "router.md", Array(KnowledgeAPITests.guide.utf8))
        _ = try await parley.waitForDocument(baseID, try #require((upload.json["document"] as? [String: Any])?["id"] as? String))
        let created = try await parley.request(.POST, "/api/v1/assistants", body: """
            {"name":"Router help","description":"Questions about your router","system_prompt":"You are the router desk.",
             "knowledge_base_ids":["\(baseID)"],"published":true}
            """)
        try #require(created.status == 201, "\(created.body)")
        #expect(created.json["published"] as? Bool == true)
        let path = try #require(created.json["public_path"] as? String)
        #expect(path.hasPrefix("/a/") && path.count == 25, "\(path)")
        return (try #require(created.json["id"] as? String), String(path.dropFirst(3)), baseID)
    }

    static func visitor(_ token: String) -> [String: String] { anonymous.merging(["Parley-Visitor-Token": token]) { $1 } }

    @Test func aVisitorChatsWithAPublishedAssistantAndItsOwnerSeesTheChat() async throws {
        let parley = try await Self.start()
        defer { Task { await parley.stop() } }
        let (assistantID, slug, baseID) = try await Self.publish(parley)

        // What anyone can see: the name and description, nothing else.
        let info = try await parley.request(.GET, "/api/v1/public/assistants/\(slug)", headers: Self.anonymous)
        #expect(info.status == 200 && Set(info.json.keys) == ["name", "description"], "\(info.body)")
        #expect(info.json["name"] as? String == "Router help")
        let page = try await parley.request(.GET, "/a/\(slug)", headers: Self.anonymous)
        #expect(page.status == 200 && page.body.contains("visitor.js"))
        #expect(page.headers["content-security-policy"]?.contains("frame-ancestors *") == true && page.headers["x-frame-options"] == nil)
        let home = try await parley.request(.GET, "/", headers: Self.anonymous)
        #expect(home.headers["x-frame-options"] == "DENY" && home.headers["content-security-policy"]?.contains("frame-ancestors 'none'") == true)
        let widget = try await parley.request(.GET, "/widget.js", headers: Self.anonymous)
        #expect(widget.status == 200 && widget.headers["content-type"]?.hasPrefix("text/javascript") == true)
        #expect(widget.body.contains("data-assistant") && widget.headers["cache-control"] == "public, max-age=3600")

        // A chat starts; the answer streams from the owner's documents, shown without the owner's details.
        let started = try await parley.request(.POST, "/api/v1/public/assistants/\(slug)/chats", headers: Self.anonymous)
        #expect(started.status == 201 && started.headers["cache-control"] == "no-store", "\(started.body)")
        let chatID = try #require(started.json["id"] as? String)
        let token = try #require(started.json["token"] as? String)
        let stream = try await parley.events(.POST, "/api/v1/public/chats/\(chatID)/messages",
                                             body: #"{"content":"How long does the warranty last? mock:echo=system mock:tokens=3000"}"#,
                                             headers: Self.visitor(token))
        #expect(stream.status == 200)
        let events = try await stream.rest()
        #expect(events.deltaText.contains("The warranty lasts two years"), "\(events.deltaText.prefix(400))")
        let done = try #require(events.last(where: { $0.name == "done" }))
        for hidden in ["model", "usage", "conversation_id", "knowledge_base_id", "document_id", baseID] {
            #expect(!done.rawData.contains(hidden), "the visitor is not shown \(hidden): \(done.rawData.prefix(300))")
        }
        #expect(!events.contains { $0.name == "usage" })
        let sources = try #require(done.data["sources"] as? [[String: Any]])
        #expect(sources.first?["document_name"] as? String == "router.md" && done.data["unanswered"] as? Bool == false)
        let answerID = try #require(done.data["id"] as? String)

        // Nothing relevant: the answer says it is unanswered, so the page offers a person.
        let unrelated = try await parley.events(.POST, "/api/v1/public/chats/\(chatID)/messages",
                                                body: #"{"content":"Which zeppelin company flies passengers from Berlin to Oslo each summer?"}"#, headers: Self.visitor(token)).rest()
        #expect(unrelated.last(where: { $0.name == "done" })?.data["unanswered"] as? Bool == true)

        // The visitor reads the chat back, rates the answer and leaves an address.
        let read = try await parley.request(.GET, "/api/v1/public/chats/\(chatID)", headers: Self.visitor(token))
        #expect(read.status == 200 && (read.json["data"] as? [Any])?.count == 4 && read.json["handoff_requested"] as? Bool == false)
        let rated = try await parley.request(.PUT, "/api/v1/public/chats/\(chatID)/messages/\(answerID)/feedback",
                                             body: #"{"rating":1}"#, headers: Self.visitor(token))
        #expect(rated.status == 200, "\(rated.body)")
        let handoff = try await parley.request(.POST, "/api/v1/public/chats/\(chatID)/handoff",
                                               body: #"{"email":" ann@example.org ","note":"Call me about the warranty"}"#,
                                               headers: Self.visitor(token))
        #expect(handoff.status == 201 && handoff.json["email"] as? String == "ann@example.org", "\(handoff.body)")

        // The owner sees the chat under the assistant — not among their own — with its rating and request.
        let chats = try await parley.request(.GET, "/api/v1/assistants/\(assistantID)/visitor-chats")
        let chat = try #require((chats.json["data"] as? [[String: Any]])?.first, "\(chats.body)")
        #expect(chat["id"] as? String == chatID && chat["thumbs_up"] as? Int == 1 && chat["message_count"] as? Int == 4)
        #expect((chat["handoff"] as? [String: Any])?["note"] as? String == "Call me about the warranty")
        #expect(chat["title"] as? String == "How long does the warranty last? mock:echo=system mock:tokens=3000")
        let own = try await parley.request(.GET, "/api/v1/conversations")
        #expect((own.json["data"] as? [[String: Any]])?.contains { $0["id"] as? String == chatID } == false)
        let messages = try await parley.request(.GET, "/api/v1/conversations/\(chatID)/messages")
        #expect((messages.json["data"] as? [Any])?.count == 4)

        // Withdrawn: the address and the chat are gone for visitors; published again at a new address.
        #expect(try await parley.request(.PATCH, "/api/v1/assistants/\(assistantID)", body: #"{"published":false}"#)
            .json["published"] as? Bool == false)
        #expect(try await parley.request(.GET, "/api/v1/public/assistants/\(slug)", headers: Self.anonymous).status == 404)
        #expect(try await parley.request(.GET, "/api/v1/public/chats/\(chatID)", headers: Self.visitor(token)).status == 404)
        let again = try await parley.request(.PATCH, "/api/v1/assistants/\(assistantID)", body: #"{"published":true}"#)
        let newPath = try #require(again.json["public_path"] as? String)
        #expect(newPath != "/a/\(slug)")
        #expect(try await parley.request(.PATCH, "/api/v1/assistants/\(assistantID)", body: #"{"published":true}"#)
            .json["public_path"] as? String == newPath, "publishing again keeps the address")

        // Deleting the assistant deletes its visitors' chats.
        #expect(try await parley.request(.DELETE, "/api/v1/assistants/\(assistantID)").status == 204)
        #expect(try await parley.request(.GET, "/api/v1/conversations/\(chatID)").status == 404)
    }

    @Test func theOwnerChoosesWhichSitesMayFrameTheVisitorsPage() async throws {
        try await TestParley.with { parley in
            let created = try await parley.request(.POST, "/api/v1/assistants", body: """
                {"name":"Desk","published":true,"embed_origins":["https://Shop.example.com/","http://localhost:3000","https://*.example.org"]}
                """)
            #expect(created.status == 201 && created.json["embed_origins"] as? [String]
                    == ["https://shop.example.com", "http://localhost:3000", "https://*.example.org"], "\(created.body)")
            let id = try #require(created.json["id"] as? String)
            let path = try #require(created.json["public_path"] as? String)
            let page = try await parley.request(.GET, path, headers: Self.anonymous)
            #expect(page.headers["content-security-policy"]?
                .hasSuffix("frame-ancestors https://shop.example.com http://localhost:3000 https://*.example.org") == true,
                    "\(page.headers["content-security-policy"] ?? "")")
            #expect(page.headers["x-frame-options"] == nil)
            // Back to any site; every other page stays unframeable.
            let cleared = try await parley.request(.PATCH, "/api/v1/assistants/\(id)", body: #"{"embed_origins":[]}"#)
            #expect(cleared.status == 200 && cleared.json["embed_origins"] as? [String] == [])
            #expect(try await parley.request(.GET, path, headers: Self.anonymous).headers["content-security-policy"]?
                .contains("frame-ancestors *") == true)
            let unknown = try await parley.request(.GET, "/a/\(String(repeating: "x", count: 22))", headers: Self.anonymous)
            #expect(unknown.headers["content-security-policy"]?.contains("frame-ancestors *") == true)
            // Only sites, as a header can carry them.
            for bad in [#"["example.com"]"#, #"["https://example.com/path"]"#, #"["https://a.com; script-src *"]"#,
                        #"["ftp://example.com"]"#, #"["https://exa mple.com"]"#, #"["https://example.com:99999"]"#, #"["https://"]"#,
                        "[" + Array(repeating: #""https://a.com""#, count: 11).joined(separator: ",") + "]", #""https://a.com""#] {
                let refused = try await parley.request(.PATCH, "/api/v1/assistants/\(id)", body: #"{"embed_origins":\#(bad)}"#)
                #expect(refused.status == 400, "\(bad): \(refused.status) \(refused.body)")
            }
            #expect(try await parley.request(.GET, "/api/v1/assistants/\(id)").json["embed_origins"] as? [String] == [])
        }
    }

    @Test func aVisitorReattachesToAnAnswerWhereTheyLeftIt() async throws {
        let parley = try await Self.start()
        defer { Task { await parley.stop() } }
        let (_, slug, _) = try await Self.publish(parley)
        let started = try await parley.request(.POST, "/api/v1/public/assistants/\(slug)/chats", headers: Self.anonymous)
        let chatID = try #require(started.json["id"] as? String), token = try #require(started.json["token"] as? String)
        let stream = try await parley.events(.POST, "/api/v1/public/chats/\(chatID)/messages",
                                             body: #"{"content":"Tell me slowly mock:tokens=40 mock:delay_ms=25"}"#,
                                             headers: Self.visitor(token))
        // A few words arrive, then the page reloads: it asks for what came after the last event it saw.
        var seen: [Event] = []
        while let event = try await stream.next() {
            seen.append(event)
            if seen.count(where: { $0.name == "delta" }) == 5 { break }
        }
        let answerID = try #require(seen.first { $0.name == "message" && $0.data["role"] as? String == "assistant" }?.data["id"] as? String)
        let lastID = try #require(seen.last?.id)
        let rest = try await parley.events(.GET, "/api/v1/public/chats/\(chatID)/messages/\(answerID)/events",
                                           headers: Self.visitor(token).merging(["Last-Event-ID": String(lastID)]) { $1 })
        #expect(rest.status == 200)
        let after = try await rest.rest()
        let done = try #require(after.last, "the reattached stream ends")
        #expect(done.name == "done" && after.allSatisfy { ($0.id ?? 0) > lastID }, "\(after.map(\.name))")
        #expect(seen.deltaText + after.deltaText == done.content, "every word once: \(seen.deltaText) + \(after.deltaText)")
        #expect(!done.rawData.contains("usage") && !done.rawData.contains("\"model\""), "shown as to a visitor: \(done.rawData)")
        // A finished answer's end comes at once, from the start when nothing was seen.
        let again = try await parley.events(.GET, "/api/v1/public/chats/\(chatID)/messages/\(answerID)/events?last_event_id=0",
                                            headers: Self.visitor(token)).rest()
        #expect(again.last?.name == "done" && again.last?.content == done.content)
    }

    @Test func visitorsReachOnlyTheirChatAreLimitedPerAddressAndBadInputGetsClearErrors() async throws {
        let parley = try await Self.start(visitorRate: 6)
        defer { Task { await parley.stop() } }
        let (assistantID, slug, _) = try await Self.publish(parley)
        let admin = try await parley.signIn(email: TestUsers.adminEmail)
        let bob = try await parley.createUser("bob@example.com", by: admin)
        let start = { try await parley.request(.POST, "/api/v1/public/assistants/\(slug)/chats", headers: Self.anonymous) }
        let first = try await start(), second = try await start()
        let chatID = try #require(first.json["id"] as? String), token = try #require(first.json["token"] as? String)
        let otherID = try #require(second.json["id"] as? String), otherToken = try #require(second.json["token"] as? String)
        let answer = try await parley.events(.POST, "/api/v1/public/chats/\(otherID)/messages", body: #"{"content":"Reset?"}"#,
                                             headers: Self.visitor(otherToken)).rest()
        let otherAnswerID = try #require(answer.last(where: { $0.name == "done" })?.data["id"] as? String)
        let post = { (body: String) in
            try await parley.request(.POST, "/api/v1/public/chats/\(chatID)/messages", body: body, headers: Self.visitor(token))
        }
        let cases: [(String, APIReply, Int)] = [
            ("no token", try await parley.request(.GET, "/api/v1/public/chats/\(chatID)", headers: Self.anonymous), 401),
            ("another chat's token", try await parley.request(.GET, "/api/v1/public/chats/\(chatID)", headers: Self.visitor(otherToken)), 404),
            ("a made-up token", try await parley.request(.GET, "/api/v1/public/chats/\(chatID)", headers: Self.visitor("x")), 404),
            ("not a chat id", try await parley.request(.GET, "/api/v1/public/chats/nope", headers: Self.visitor(token)), 404),
            ("a made-up address", try await parley.request(.GET, "/api/v1/public/assistants/\(String(repeating: "a", count: 22))",
                                                           headers: Self.anonymous), 404),
            ("not an address", try await parley.request(.POST, "/api/v1/public/assistants/nope/chats", headers: Self.anonymous), 404),
            ("rating another chat's answer", try await parley.request(
                .PUT, "/api/v1/public/chats/\(chatID)/messages/\(otherAnswerID)/feedback", body: #"{"rating":1}"#,
                headers: Self.visitor(token)), 404),
            ("reattaching to another chat's answer", try await parley.request(
                .GET, "/api/v1/public/chats/\(chatID)/messages/\(otherAnswerID)/events", headers: Self.visitor(token)), 404),
            ("a bad Last-Event-ID", try await parley.request(
                .GET, "/api/v1/public/chats/\(otherID)/messages/\(otherAnswerID)/events",
                headers: Self.visitor(otherToken).merging(["Last-Event-ID": "soon"]) { $1 }), 400),
            ("stopping another chat's answer", try await parley.request(
                .POST, "/api/v1/public/chats/\(chatID)/messages/\(otherAnswerID)/stop", headers: Self.visitor(token)), 404),
            ("a bad rating", try await parley.request(.PUT, "/api/v1/public/chats/\(otherID)/messages/\(otherAnswerID)/feedback",
                                                      body: #"{"rating":5}"#, headers: Self.visitor(otherToken)), 400),
            ("no email", try await parley.request(.POST, "/api/v1/public/chats/\(chatID)/handoff", body: #"{"email":"me"}"#,
                                                  headers: Self.visitor(token)), 400),
            ("a long note", try await parley.request(.POST, "/api/v1/public/chats/\(chatID)/handoff",
                                                     body: #"{"email":"a@b.co","note":"\#(String(repeating: "n", count: 2_001))"}"#,
                                                     headers: Self.visitor(token)), 400),
            ("empty question", try await post(#"{"content":"  "}"#), 400),
            ("long question", try await post(#"{"content":"\#(String(repeating: "q", count: 4_001))"}"#), 400),
            ("choosing the model", try await post(#"{"content":"hi","model":"mock-2"}"#), 400),
            ("not JSON", try await post("{"), 400),
            ("the owner's route", try await parley.request(.GET, "/api/v1/assistants/\(assistantID)/visitor-chats",
                                                           headers: Self.anonymous), 401),
            ("bob reads the visitors' chats", try await parley.request(.GET, "/api/v1/assistants/\(assistantID)/visitor-chats",
                                                                       headers: bob.headers), 404),
            ("bob reads a visitor's chat", try await parley.request(.GET, "/api/v1/conversations/\(chatID)/messages",
                                                                    headers: bob.headers), 404),
            ("a bad publish flag", try await parley.request(.PATCH, "/api/v1/assistants/\(assistantID)", body: #"{"published":"yes"}"#), 400),
        ]
        for (name, reply, status) in cases {
            #expect(reply.status == status, "\(name): \(reply.status) \(reply.body)")
            #expect(reply.errorMessage?.isEmpty == false, "\(name) has a message: \(reply.body)")
        }

        // Six units a minute per address: two starts and one question are spent, three more pass, then a 429.
        for n in 1...3 {
            let reply = try await post(#"{"content":"Question \#(n)? mock:tokens=1"}"#)
            #expect(reply.status == 200, "question \(n): \(reply.status) \(reply.body.prefix(200))")
        }
        let limited = try await post(#"{"content":"One more?"}"#)
        #expect(limited.status == 429 && limited.headers["retry-after"] != nil, "\(limited.status) \(limited.body)")
        #expect(try await start().status == 429, "starting chats counts too")
    }

    @Test func theOwnerPaysForVisitorsQuestionsAndTheirBudgetStopsThem() async throws {
        let parley = try await Self.start()
        defer { Task { await parley.stop() } }
        let (_, slug, _) = try await Self.publish(parley)
        let admin = try await parley.signIn(email: TestUsers.adminEmail)
        let set = try await parley.request(.PATCH, "/api/v1/admin/users/\(admin.userID)", body: #"{"token_budget":2500}"#,
                                           headers: admin.headers)
        #expect(set.status == 200, "\(set.body)")
        let started = try await parley.request(.POST, "/api/v1/public/assistants/\(slug)/chats", headers: Self.anonymous)
        let chatID = try #require(started.json["id"] as? String), token = try #require(started.json["token"] as? String)
        var replies: [APIReply] = []
        while replies.count < 30 {
            let reply = try await parley.request(.POST, "/api/v1/public/chats/\(chatID)/messages",
                                                 body: #"{"content":"Question \#(replies.count)? mock:tokens=5"}"#, headers: Self.visitor(token))
            replies.append(reply)
            if reply.status != 200 { break }
        }
        let refused = try #require(replies.last)
        #expect(refused.status == 429 && refused.headers["retry-after"] != nil, "\(refused.status) \(refused.body)")
        let message = refused.errorMessage ?? ""
        #expect(message.contains("cannot answer more questions until") && !message.contains("2500"), "nothing of the owner's budget: \(message)")
        let answered = replies.count - 1
        #expect(answered >= 1, "the budget paid for some questions")
        // The questions are the owner's usage, within their budget.
        let usage = try await BudgetTests.usage(parley, admin.headers)
        let spent = try #require(usage["spent"] as? Int)
        #expect(spent > 0 && spent <= 2500, "\(usage)")
        let requests = (usage["data"] as? [[String: any Sendable]] ?? []).reduce(0) { $0 + ($1["requests"] as? Int ?? 0) }
        #expect(requests >= answered, "\(usage)")
    }
}
