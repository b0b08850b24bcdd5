import Foundation
import ParleyServer
import Testing

/// Every endpoint the router has, called by everyone who must not reach another user's data: a second user,
/// nobody, a revoked key, an expired session, a disabled user, and a key without the route's scope. Each gets
/// the status its rule documents, and no byte of the first user's data. The routes come from the server's own
/// list, so a route added without a rule here fails the suite.
@Suite struct IsolationMatrixTests {
    /// Who may call a route.
    enum Access {
        /// Anyone (the page, its assets, health, sign-in).
        case open
        /// A signed-in user, on their own data; `:id` names alice's resource.
        case user
        /// Administrators.
        case admin
        /// `/v1`: service keys and users' keys with the `gateway` scope.
        case gateway
        /// A published assistant's visitors: its address answers anyone (with its name and description only);
        /// a chat answers only the token it was started with.
        case visitor
        /// A shared link (alice's, for signed-in users): its token answers any signed-in user with the shared
        /// conversation, nobody else; a made-up token answers no one.
        case shared
    }

    /// The rule of every route, and the request that would succeed for alice.
    static let rules: [String: (Access, body: String?)] = [
        "GET /": (.open, nil), "GET /c/{id}": (.open, nil), "GET /assets/{version}/{name}": (.open, nil),
        "GET /health/live": (.open, nil), "GET /health/ready": (.open, nil), "GET /openapi.json": (.open, nil),
        "GET /api/v1/auth/session": (.open, nil), "POST /api/v1/auth/setup": (.open, nil),
        "POST /api/v1/auth/signup": (.open, nil), "POST /api/v1/auth/login": (.open, nil),
        "POST /api/v1/auth/logout": (.open, nil), "POST /api/v1/auth/reset": (.open, nil),
        "GET /api/v1/auth/oidc/start": (.open, nil), "GET /api/v1/auth/oidc/callback": (.open, nil),
        "GET /a/{slug}": (.open, nil), "GET /widget.js": (.open, nil), "GET /s/{token}": (.open, nil),
        "GET /api/v1/shared/{token}": (.shared, nil), "GET /api/v1/shared/{token}/messages": (.shared, nil),
        "POST /api/v1/conversations/{id}/shares": (.user, #"{"audience":"anyone"}"#), "GET /api/v1/conversations/{id}/shares": (.user, nil),
        "DELETE /api/v1/conversations/{id}/shares/{share}": (.user, nil),

        "GET /api/v1/public/assistants/{slug}": (.visitor, nil), "POST /api/v1/public/assistants/{slug}/chats": (.visitor, nil),
        "GET /api/v1/public/chats/{id}": (.visitor, nil),
        "POST /api/v1/public/chats/{id}/messages": (.visitor, #"{"content":"mine now"}"#),
        "POST /api/v1/public/chats/{id}/messages/{message}/stop": (.visitor, nil),
        "GET /api/v1/public/chats/{id}/messages/{message}/events": (.visitor, nil),
        "PUT /api/v1/public/chats/{id}/messages/{message}/feedback": (.visitor, #"{"rating":-1}"#),
        "POST /api/v1/public/chats/{id}/handoff": (.visitor, #"{"email":"taken@example.org"}"#),

        "POST /api/v1/conversations": (.user, "{}"), "GET /api/v1/conversations": (.user, nil),
        "GET /api/v1/conversations/{id}": (.user, nil), "PATCH /api/v1/conversations/{id}": (.user, #"{"title":"taken"}"#),
        "DELETE /api/v1/conversations/{id}": (.user, nil), "GET /api/v1/conversations/{id}/messages": (.user, nil),
        "POST /api/v1/conversations/{id}/messages": (.user, #"{"content":"mine now"}"#),
        "DELETE /api/v1/conversations/{id}/messages": (.user, nil),
        "POST /api/v1/imports": (.user, #"{"title":"x","mapping":{}}"#),
        "POST /api/v1/conversations/{id}/branch": (.user, #"{"message_id":"01900000-0000-7000-8000-000000000000"}"#),
        "GET /api/v1/messages/{id}": (.user, nil), "GET /api/v1/messages/{id}/events": (.user, nil),
        "POST /api/v1/messages/{id}/stop": (.user, nil), "PUT /api/v1/messages/{id}/feedback": (.user, #"{"rating":-1}"#),
        "DELETE /api/v1/messages/{id}/feedback": (.user, nil), "POST /api/v1/messages/{id}/continue": (.user, nil),
        "GET /api/v1/search": (.user, nil), "GET /api/v1/models": (.user, nil),
        "GET /api/v1/account": (.user, nil), "POST /api/v1/account/password": (.user, #"{"current_password":"x","new_password":"y"}"#),
        "GET /api/v1/account/sessions": (.user, nil), "DELETE /api/v1/account/sessions/{id}": (.user, nil),
        "GET /api/v1/account/keys": (.user, nil), "POST /api/v1/account/keys": (.user, #"{"name":"stolen"}"#),
        "DELETE /api/v1/account/keys/{id}": (.user, nil),
        "POST /api/v1/account/totp": (.user, nil),
        "POST /api/v1/account/totp/enable": (.user, #"{"secret":"AAAAAAAAAAAAAAAAAAAA","code":"123456"}"#),
        "POST /api/v1/account/totp/disable": (.user, #"{"password":"x"}"#),
        "GET /api/v1/account/usage": (.user, nil),

        "POST /api/v1/assistants": (.user, #"{"name":"mine"}"#), "GET /api/v1/assistants": (.user, nil),
        "GET /api/v1/assistants/{id}": (.user, nil), "PATCH /api/v1/assistants/{id}": (.user, #"{"name":"taken"}"#),
        "DELETE /api/v1/assistants/{id}": (.user, nil), "GET /api/v1/assistants/{id}/visitor-chats": (.user, nil),
        "POST /api/v1/prompts": (.user, #"{"command":"stolen","content":"x"}"#), "GET /api/v1/prompts": (.user, nil),
        "PATCH /api/v1/prompts/{id}": (.user, #"{"title":"taken"}"#), "DELETE /api/v1/prompts/{id}": (.user, nil),
        "POST /api/v1/attachments": (.user, "stolen words"), "GET /api/v1/attachments/{id}": (.user, nil),
        "GET /api/v1/attachments/{id}/content": (.user, nil), "DELETE /api/v1/attachments/{id}": (.user, nil),
        "POST /api/v1/knowledge-bases": (.user, #"{"name":"mine"}"#), "GET /api/v1/knowledge-bases": (.user, nil),
        "GET /api/v1/knowledge-bases/{id}": (.user, nil), "PATCH /api/v1/knowledge-bases/{id}": (.user, #"{"name":"taken"}"#),
        "DELETE /api/v1/knowledge-bases/{id}": (.user, nil),
        "POST /api/v1/knowledge-bases/{id}/documents": (.user, "stolen words"),
        "GET /api/v1/knowledge-bases/{id}/documents": (.user, nil),
        "GET /api/v1/knowledge-bases/{id}/documents/{document}": (.user, nil),
        "GET /api/v1/knowledge-bases/{id}/documents/{document}/passages": (.user, nil),
        "GET /api/v1/knowledge-bases/{id}/documents/{document}/text": (.user, nil),
        "POST /api/v1/knowledge-bases/{id}/documents/{document}/cancel": (.user, nil),
        "POST /api/v1/knowledge-bases/{id}/documents/{document}/retry": (.user, nil),
        "PATCH /api/v1/knowledge-bases/{id}/documents/{document}": (.user, #"{"pinned":true}"#),
        "DELETE /api/v1/knowledge-bases/{id}/documents/{document}": (.user, nil),
        "GET /api/v1/knowledge-bases/{id}/events": (.user, nil),
        "POST /api/v1/knowledge-bases/{id}/search": (.user, #"{"query":"trip"}"#),

        "GET /api/v1/admin/users": (.admin, nil), "POST /api/v1/admin/users": (.admin, #"{"email":"new@example.com"}"#),
        "PATCH /api/v1/admin/users/{id}": (.admin, #"{"role":"disabled"}"#), "DELETE /api/v1/admin/users/{id}": (.admin, nil),
        "GET /api/v1/admin/audit": (.admin, nil), "POST /api/v1/admin/users/{id}/password-reset": (.admin, nil),
        "GET /api/v1/admin/usage": (.admin, nil), "GET /api/v1/admin/users/{id}/usage": (.admin, nil),

        "GET /v1/models": (.gateway, nil), "GET /v1/models/{id}": (.gateway, nil),
        "POST /v1/chat/completions": (.gateway, cachedRequest),
        "POST /v1/embeddings": (.gateway, #"{"model":"mock-1","input":"hi"}"#),
    ]

    /// A deterministic `/v1` call alice makes first (so its answer is cached in her namespace) and others repeat.
    static let cachedRequest = #"{"model":"mock-1","temperature":0,"messages":[{"role":"user","content":"zanzibar facts"}]}"#

    /// Alice's data, and words that appear only in it.
    struct Alice {
        var conversation: String
        var message: String
        var session: String
        var key: String
        var userID: String
        var base: String
        var document: String
        var assistant: String
        /// The assistant's public address: anyone may use it.
        var slug: String
        var prompt: String
        var share: String
        var shareToken: String
        var attachment: String
        var markers: [String] {
            [conversation, message, session, key, base, document, assistant, prompt, share, attachment, "zanzibar", "alice-secret-title",
             "alice-secret-base", "alice-secret-assistant", "alice-secret-prompt", "alice-secret-attachment"]
        }
    }

    @Test func nobodyElseReachesAUsersData() async throws {
        try await TestParley.with(configure: {
            $0.apiKeys = ["sk-service"]
            $0.accounts.sessionIdle = .seconds(3)
        }) { parley in
            // The routes as the running server registered them.
            let routes = try #require(parley.server.service as? ParleyApplication).routes
            let unruled = routes.filter { Self.rules[$0.description] == nil }
            #expect(unruled.isEmpty, "routes without an isolation rule: \(unruled)")

            // Dave's session passes its idle limit (3 s here) first; the others stay in use from then on.
            let expired = try await parley.createUser("dave@example.com", by: try await parley.signIn(email: TestUsers.adminEmail))
            try await Task.sleep(for: .seconds(3.5))
            let admin = try await parley.signIn(email: TestUsers.adminEmail)
            let aliceSession = try await parley.createUser("alice@example.com", by: admin)
            let bobSession = try await parley.createUser("bob@example.com", by: admin)
            let carolSession = try await parley.createUser("carol@example.com", by: admin)
            let aliceKey = try await parley.newKey(aliceSession)
            let bobKey = try await parley.newKey(bobSession, scopes: ["chat", "gateway"])
            let carolKey = try await parley.newKey(carolSession)
            let aliceChatOnly = try await parley.newKey(aliceSession, scopes: ["chat"])
            let aliceGatewayOnly = try await parley.newKey(aliceSession, scopes: ["gateway"])
            let adminChatOnly = try await parley.newKey(admin, scopes: ["chat", "gateway"])
            let revoked = try await parley.newKey(aliceSession, name: "revoked")
            let asAlice = ["Authorization": "Bearer " + aliceKey]

            // Alice's data: a conversation with an answer, feedback, a cached /v1 answer.
            let conversation = try #require(try await parley.request(.POST, "/api/v1/conversations",
                                                                     body: #"{"title":"alice-secret-title"}"#, headers: asAlice).json["id"] as? String)
            let events = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                                 body: #"{"content":"my trip to zanzibar mock:tokens=3"}"#, headers: asAlice).rest()
            let message = try #require(events.first { $0.name == "message" && $0.message?["role"] as? String == "assistant" }?.message?["id"] as? String
                                           ?? events.compactMap { $0.data["id"] as? String }.last)
            #expect(try await parley.request(.PUT, "/api/v1/messages/\(message)/feedback", body: #"{"rating":1}"#, headers: asAlice).status == 200)
            let cached = Self.cachedRequest
            #expect(try await parley.request(.POST, "/v1/chat/completions", body: cached, headers: asAlice).status == 200)
            let keys = try await parley.request(.GET, "/api/v1/account/keys", headers: aliceSession.cookie)
            let keyList = try #require(keys.json["data"] as? [[String: any Sendable]])
            let revokedID = try #require(keyList.first { $0["name"] as? String == "revoked" }?["id"] as? String)
            let aliceKeyID = try #require(keyList.last?["id"] as? String)
            #expect(try await parley.request(.DELETE, "/api/v1/account/keys/\(revokedID)", headers: aliceSession.headers).status == 204)
            let sessions = try await parley.request(.GET, "/api/v1/account/sessions", headers: aliceSession.cookie)
            let sessionID = try #require((sessions.json["data"] as? [[String: any Sendable]])?.first?["id"] as? String)
            // And a knowledge base with a document, read and indexed.
            let base = try #require(try await parley.createBase(#"{"name":"alice-secret-base"}"#, headers: asAlice)["id"] as? String)
            let upload = try await parley.upload(base, name: "alice.md", Array("# Trips\n\nMy trip to zanzibar.".utf8), headers: asAlice)
            let document = try #require((upload.json["document"] as? [String: Any])?["id"] as? String)
            _ = try await parley.waitForDocument(base, document, headers: asAlice)
            // And an assistant that answers from it.
            let assistant = try await parley.request(.POST, "/api/v1/assistants",
                                                     body: #"{"name":"alice-secret-assistant","knowledge_base_ids":["\#(base)"]}"#,
                                                     headers: asAlice)
            let assistantID = try #require(assistant.json["id"] as? String, "\(assistant.body)")
            // Published, with a visitor whose token must reach nothing but their own chat.
            let published = try await parley.request(.PATCH, "/api/v1/assistants/\(assistantID)", body: #"{"published":true}"#,
                                                     headers: asAlice)
            let slug = String(try #require(published.json["public_path"] as? String).dropFirst(3))
            let visitorChat = try await parley.request(.POST, "/api/v1/public/assistants/\(slug)/chats", headers: ["Authorization": ""])
            let visitor = ["Authorization": "", "Parley-Visitor-Token": try #require(visitorChat.json["token"] as? String)]
            // And a saved prompt.
            let prompt = try await parley.request(.POST, "/api/v1/prompts", body: #"{"command":"mine","content":"alice-secret-prompt"}"#,
                                                  headers: asAlice)
            let promptID = try #require(prompt.json["id"] as? String, "\(prompt.body)")
            // And a link to her conversation for signed-in users.
            let shared = try await parley.request(.POST, "/api/v1/conversations/\(conversation)/shares", body: #"{"audience":"signed_in"}"#,
                                                  headers: asAlice)
            // And an attachment.
            let attached = try await parley.request(.POST, "/api/v1/attachments?name=alice-secret-attachment.md",
                                                    body: "# alice-secret-attachment\n\nNotes.", headers: asAlice)
            let attachmentID = try #require(attached.json["id"] as? String, "\(attached.body)")
            let alice = Alice(conversation: conversation, message: message, session: sessionID, key: aliceKeyID,
                              userID: aliceSession.userID, base: base, document: document, assistant: assistantID, slug: slug,
                              prompt: promptID, share: try #require(shared.json["id"] as? String, "\(shared.body)"),
                              shareToken: try #require(shared.json["token"] as? String), attachment: attachmentID)
            #expect(try await parley.request(.PATCH, "/api/v1/admin/users/\(carolSession.userID)", body: #"{"role":"disabled"}"#,
                                             headers: admin.headers).status == 200)

            for route in routes {
                guard let (access, body) = Self.rules[route.description], access != .open else { continue }
                let path = Self.path(route, alice: alice)
                func call(_ headers: [String: String]) async throws -> APIReply {
                    try await parley.request(.init(rawValue: route.method), path, body: body, headers: headers)
                }
                func expect(_ reply: APIReply, _ statuses: Set<Int>, _ who: String, shown: Set<String> = []) {
                    #expect(statuses.contains(reply.status), "\(route) as \(who): \(reply.status) \(reply.body.prefix(200))")
                    // (An id the caller sent may be named back in the error; anything else of alice's may not.)
                    for marker in alice.markers where !path.contains(marker) && !shown.contains(marker) && reply.body.contains(marker) {
                        Issue.record("\(route) as \(who) shows alice's \(marker): \(reply.body.prefix(300))")
                    }
                }
                if access == .shared {
                    // What she shared (the title, the messages) and nothing else; only for signed-in users.
                    let shown: Set<String> = ["alice-secret-title", "zanzibar"]
                    expect(try await call(["Authorization": ""]), [401], "nobody")
                    expect(try await call(bobSession.headers), [200], "a second user's session", shown: shown)
                    expect(try await call(["Authorization": "Bearer " + bobKey]), [200], "a second user's key", shown: shown)
                    let madeUp = path.replacingOccurrences(of: alice.shareToken, with: String(repeating: "A", count: 43))
                    expect(try await parley.request(.GET, madeUp, headers: bobSession.headers), [404], "a made-up link")
                    expect(try await parley.request(.GET, path.replacingOccurrences(of: alice.shareToken, with: visitor["Parley-Visitor-Token"]!),
                                                    headers: ["Authorization": ""]), [404], "a visitor's token as a link")
                    continue
                }
                if access == .visitor {
                    // The address is public (it shows the assistant's name); a chat needs its own token, and a
                    // visitor's token does not open alice's own conversation or message.
                    let isAddress = route.path.contains("{slug}")
                    for (who, headers) in [("nobody", ["Authorization": ""]), ("a second user", bobSession.headers),
                                           ("a visitor of another chat", visitor)] {
                        let statuses: Set<Int> = isAddress ? [200, 201] : headers["Parley-Visitor-Token"] == nil ? [401] : [404]
                        expect(try await call(headers), statuses, who, shown: isAddress ? ["alice-secret-assistant"] : [])
                    }
                    continue
                }
                expect(try await call(["Authorization": ""]), [401], "nobody")
                expect(try await call(["Authorization": "Bearer " + revoked]), [401], "a revoked key")
                expect(try await call(["Authorization": "Bearer pk-made-up"]), [401], "an unknown key")
                expect(try await call(expired.headers), [401], "an expired session")
                expect(try await call(["Authorization": "Bearer " + carolKey]), access == .gateway ? [403] : [403], "a disabled user's key")
                expect(try await call(carolSession.headers), access == .gateway ? [401] : [401], "a disabled user's session")
                switch access {
                case .user:
                    expect(try await call(["Authorization": "Bearer " + aliceGatewayOnly]), [403], "a key without the chat scope")
                    // Bob, signed in: another user's id is unknown to him; his own lists hold nothing of alice's.
                    let statuses: Set<Int> = route.path.contains("{id}") ? [404] : [200, 201, 400, 403, 409]
                    expect(try await call(["Authorization": "Bearer " + bobKey]), statuses, "a second user's key")
                    expect(try await call(bobSession.headers), statuses, "a second user's session")
                case .admin:
                    expect(try await call(["Authorization": "Bearer " + adminChatOnly]), [403], "an admin's key without the admin scope")
                    expect(try await call(["Authorization": "Bearer " + bobKey]), [403], "a user's key")
                    expect(try await call(bobSession.headers), [403], "a user's session")
                case .gateway:
                    expect(try await call(["Authorization": "Bearer " + aliceChatOnly]), [403], "a key without the gateway scope")
                    let reply = try await call(["Authorization": "Bearer " + bobKey])
                    expect(reply, [200, 404], "a second user's key")
                    #expect(reply.headers["x-parley-cache"] != "hit", "\(route): bob is never served alice's cached answer")
                case .open, .visitor, .shared:
                    break
                }
                // After every attack alice's conversation is still hers, through her session (which this also
                // keeps in use, like the administrator's).
                let still = try await parley.request(.GET, "/api/v1/conversations/\(conversation)", headers: aliceSession.cookie)
                #expect(still.status == 200 && still.body.contains("alice-secret-title"), "after \(route): \(still.body.prefix(200))")
                #expect(try await parley.request(.GET, "/api/v1/account", headers: admin.cookie).status == 200)
            }

            // Alice's data is all still there, and still hers.
            let mine = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages", headers: asAlice)
            #expect(mine.status == 200 && mine.body.contains("zanzibar") && mine.body.contains(#""rating":1"#), "\(mine.body.prefix(300))")
            let title = try await parley.request(.GET, "/api/v1/conversations/\(conversation)", headers: asAlice)
            #expect(title.json["title"] as? String == "alice-secret-title")
            #expect(try await parley.request(.GET, "/api/v1/conversations", headers: aliceSession.cookie).status == 200,
                    "alice's own session was not ended by anyone else")
            #expect(try await parley.request(.POST, "/v1/chat/completions", body: cached, headers: asAlice).headers["x-parley-cache"] == "hit",
                    "alice's own cache still serves her")
            let adminReads = try await parley.request(.GET, "/api/v1/conversations/\(conversation)", headers: admin.headers)
            #expect(adminReads.status == 404, "administrators manage users; they do not read their chats")
        }
    }

    /// The route's path with alice's ids in it.
    static func path(_ route: Route, alice: Alice) -> String {
        var path = route.path
        var id: String
        switch true {
        case path.hasPrefix("/api/v1/conversations/"): id = alice.conversation
        case path.hasPrefix("/api/v1/messages/"): id = alice.message
        case path.hasPrefix("/api/v1/account/sessions/"): id = alice.session
        case path.hasPrefix("/api/v1/account/keys/"): id = alice.key
        case path.hasPrefix("/api/v1/admin/users/"): id = alice.userID
        case path.hasPrefix("/api/v1/knowledge-bases/"): id = alice.base
        case path.hasPrefix("/api/v1/assistants/"): id = alice.assistant
        case path.hasPrefix("/api/v1/prompts/"): id = alice.prompt
        case path.hasPrefix("/api/v1/attachments/"): id = alice.attachment
        default: id = "mock-1"
        }
        if path.hasPrefix("/api/v1/public/chats/") { id = alice.conversation }
        path = path.replacingOccurrences(of: ":id", with: id).replacingOccurrences(of: "{id}", with: id)
            .replacingOccurrences(of: "{document}", with: alice.document).replacingOccurrences(of: "{slug}", with: alice.slug)
            .replacingOccurrences(of: "{message}", with: alice.message).replacingOccurrences(of: "{share}", with: alice.share)
            .replacingOccurrences(of: "{token}", with: alice.shareToken)
        if route.method == "POST" && (path.hasSuffix("/documents") || path.hasSuffix("/attachments")) { path += "?name=stolen.md" }
        // Words of alice's message; only "zanzibar" counts as leaked (the query itself is echoed).
        if path == "/api/v1/search" { path += "?q=trip" }
        return path
    }
}
