import Foundation
import ParleyServer
import Testing

/// Assistants through the real server: saved presets created, changed and deleted by their owner, chats started
/// from them with their system prompt, model and knowledge bases, and bad input answered with clear 4xx errors.
@Suite struct AssistantAPITests {
    @Test func anAssistantIsSavedAndChatsStartFromIt() async throws {
        let parley = try await KnowledgeAPITests.start()
        defer { Task { await parley.stop() } }
        let baseID = try #require(try await parley.createBase(#"{"name":"Support"}"#)["id"] as? String)
        let upload = try await parley.upload(baseID, name: "router.md", Array(KnowledgeAPITests.guide.utf8))
        _ = try await parley.waitForDocument(baseID, try #require((upload.json["document"] as? [String: Any])?["id"] as? String))

        let created = try await parley.request(.POST, "/api/v1/assistants", body: """
            {"name":"  Router support  ","description":"Answers from the router guide",
             "system_prompt":"You are the router support desk.","model":"mock-2","knowledge_base_ids":["\(baseID.uppercased())"]}
            """)
        #expect(created.status == 201, "\(created.body)")
        let id = try #require(created.json["id"] as? String)
        #expect(created.headers["location"] == "/api/v1/assistants/\(id)")
        #expect(created.json["name"] as? String == "Router support" && created.json["model"] as? String == "mock-2")
        #expect(created.json["knowledge_base_ids"] as? [String] == [baseID])
        let list = try await parley.request(.GET, "/api/v1/assistants")
        #expect((list.json["data"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])

        // A chat started from it takes its settings and answers from its base, in its voice.
        let conversation = try await parley.request(.POST, "/api/v1/conversations", body: #"{"assistant_id":"\#(id)"}"#)
        #expect(conversation.status == 201, "\(conversation.body)")
        #expect(conversation.json["model"] as? String == "mock-2" && conversation.json["knowledge_base_ids"] as? [String] == [baseID])
        #expect(conversation.json["system_prompt"] as? String == "You are the router support desk.")
        let conversationID = try #require(conversation.json["id"] as? String)
        let turn = try await parley.chat(conversationID, "How long does the warranty last? mock:echo=system mock:tokens=2000")
        #expect(turn.deltaText.hasPrefix("You are the router support desk."), "\(turn.deltaText.prefix(300))")
        #expect(turn.deltaText.contains("The warranty lasts two years"), "the base's passage was given")
        // What the request names wins over the assistant.
        let own = try await parley.request(.POST, "/api/v1/conversations",
                                           body: #"{"assistant_id":"\#(id)","model":"mock-1","knowledge_base_ids":[]}"#)
        #expect(own.json["model"] as? String == "mock-1" && (own.json["knowledge_base_ids"] as? [String])?.isEmpty == true)
        #expect(own.json["system_prompt"] as? String == "You are the router support desk.")

        // Changed: null clears, absent keeps; a chat started before keeps what it was given.
        let changed = try await parley.request(.PATCH, "/api/v1/assistants/\(id)", body: #"{"system_prompt":null,"name":"Desk"}"#)
        #expect(changed.status == 200 && changed.json["system_prompt"] == nil && changed.json["name"] as? String == "Desk")
        #expect(changed.json["model"] as? String == "mock-2" && changed.json["knowledge_base_ids"] as? [String] == [baseID])
        let earlier = try await parley.request(.GET, "/api/v1/conversations/\(conversationID)")
        #expect(earlier.json["system_prompt"] as? String == "You are the router support desk.")

        // A base deleted since is left out of new chats; the assistant still starts them.
        #expect(try await parley.request(.DELETE, "/api/v1/knowledge-bases/\(baseID)").status == 204)
        let later = try await parley.request(.POST, "/api/v1/conversations", body: #"{"assistant_id":"\#(id)"}"#)
        #expect(later.status == 201 && (later.json["knowledge_base_ids"] as? [String])?.isEmpty == true, "\(later.body)")

        #expect(try await parley.request(.DELETE, "/api/v1/assistants/\(id)").status == 204)
        #expect(try await parley.request(.GET, "/api/v1/assistants/\(id)").status == 404)
        let gone = try await parley.request(.POST, "/api/v1/conversations", body: #"{"assistant_id":"\#(id)"}"#)
        #expect(gone.status == 400 && gone.errorMessage?.contains("no assistant") == true, "\(gone.body)")
    }

    @Test func anAssistantsRetrievalSettingsDecideHowItsChatsSearch() async throws {
        let parley = try await TestParley.start { config in
            config.knowledge.embeddingModel = "mock-1"
            config.knowledge.rerankModel = "mock-2"
        }
        defer { Task { await parley.stop() } }
        let baseID = try #require(try await parley.createBase(#"{"name":"Filters"}"#)["id"] as? String)
        let sections = (1...12).map { "## Part \($0)\n\nThe filter of unit \($0) is cleaned with water." }
        let upload = try await parley.upload(baseID, name: "filters.md", Array(("# Filters\n\n" + sections.joined(separator: "\n\n")).utf8))
        _ = try await parley.waitForDocument(baseID, try #require((upload.json["document"] as? [String: Any])?["id"] as? String))
        let reranks = { parley.mockServer?.counters.snapshot["rerank"] ?? 0 }
        /// The sources stored on the newest answer of a conversation after one turn.
        func sourcesOfATurn(_ conversation: String, _ question: String = "How is the filter cleaned?") async throws -> [[String: Any]] {
            let turn = try await parley.chat(conversation, question + " mock:tokens=99")  // no number the manual holds
            #expect(turn.last?.name == "done")
            let page = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages").decode(MessagePageJSON.self)
            let answer = try await parley.request(.GET, "/api/v1/messages/\(try #require(page.data.last?.id))").json
            return try #require(answer["sources"] as? [[String: Any]])
        }

        let created = try await parley.request(.POST, "/api/v1/assistants", body: """
            {"name":"Brief","knowledge_base_ids":["\(baseID)"],"retrieval":{"passages":2,"rerank":false,"min_similarity":0.4}}
            """)
        #expect(created.status == 201, "\(created.body)")
        #expect(retrieval(created) == #"{"min_similarity":0.4,"passages":2,"rerank":false}"#)
        let id = try #require(created.json["id"] as? String)

        // Its chats take them: two passages, no reranking.
        let chat = try await parley.request(.POST, "/api/v1/conversations", body: #"{"assistant_id":"\#(id)"}"#)
        #expect(retrieval(chat) == #"{"min_similarity":0.4,"passages":2,"rerank":false}"#)
        let conversation = try #require(chat.json["id"] as? String)
        let before = reranks()
        #expect(try await sourcesOfATurn(conversation).count == 2)
        #expect(reranks() == before, "reranking was turned off")

        // The conversation's own settings replace them; null restores the server's defaults (eight, reranked).
        let more = try await parley.request(.PATCH, "/api/v1/conversations/\(conversation)", body: #"{"retrieval":{"passages":5}}"#)
        #expect(more.status == 200 && retrieval(more) == #"{"passages":5}"#, "\(more.body)")
        #expect(try await sourcesOfATurn(conversation).count == 5)
        #expect(reranks() == before + 1)
        let defaults = try await parley.request(.PATCH, "/api/v1/conversations/\(conversation)", body: #"{"retrieval":null}"#)
        #expect(defaults.status == 200 && (defaults.json["retrieval"] as? [String: Any])?.isEmpty == true, "\(defaults.body)")
        #expect(try await sourcesOfATurn(conversation).count == 8)

        // A question no passage shares a word with finds passages only by their vectors: the similarity floor decides.
        let unrelated = "Quelle est la capitale du Pérou?"
        let loose = try await parley.createConversation(#"{"knowledge_base_ids":["\#(baseID)"],"retrieval":{"min_similarity":0}}"#)
        let found = try await sourcesOfATurn(loose, unrelated)
        #expect(!found.isEmpty && found.allSatisfy { ($0["text"] as? String)?.contains("filter") == true })
        let strict = try await parley.createConversation(#"{"knowledge_base_ids":["\#(baseID)"],"retrieval":{"min_similarity":1}}"#)
        let none = try await sourcesOfATurn(strict, unrelated)
        #expect(none.isEmpty, "\(none)")

        // A chat of its own names its settings; the search endpoint can leave the reranker out too.
        let own = try await parley.request(.POST, "/api/v1/conversations", body: """
            {"assistant_id":"\(id)","retrieval":{"passages":3}}
            """)
        #expect(retrieval(own) == #"{"passages":3}"#)
        let counted = reranks()
        let search = try await parley.request(.POST, "/api/v1/knowledge-bases/\(baseID)/search",
                                              body: #"{"query":"filter cleaned","limit":3,"rerank":false}"#)
        #expect(search.status == 200 && search.json["reranked_by"] == nil && search.json["note"] == nil, "\(search.body)")
        #expect(reranks() == counted)

        // Changing the assistant's settings changes new chats, not the ones it started.
        let changed = try await parley.request(.PATCH, "/api/v1/assistants/\(id)", body: #"{"retrieval":{"passages":1}}"#)
        #expect(changed.status == 200 && retrieval(changed) == #"{"passages":1}"#)
        #expect(retrieval(try await parley.request(.GET, "/api/v1/conversations/\(own.json["id"] as? String ?? "")")) == #"{"passages":3}"#)
        let renamed = try await parley.request(.PATCH, "/api/v1/assistants/\(id)", body: #"{"name":"Briefer"}"#)
        #expect(retrieval(renamed) == #"{"passages":1}"#, "absent: left as it was")
    }

    /// The `retrieval` object of a reply as compact JSON with sorted keys.
    func retrieval(_ reply: APIReply) -> String? {
        guard let object = reply.json["retrieval"],
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    @Test func badInputAndAnotherUsersAssistantGetClearErrors() async throws {
        let parley = try await KnowledgeAPITests.start()
        defer { Task { await parley.stop() } }
        let admin = try await parley.signIn(email: TestUsers.adminEmail)
        let bob = try await parley.createUser("bob@example.com", by: admin)
        let bobsBase = try #require(try await parley.createBase(#"{"name":"Bob's"}"#, headers: bob.headers)["id"] as? String)
        let id = try #require(try await parley.request(.POST, "/api/v1/assistants", body: #"{"name":"Mine"}"#).json["id"] as? String)
        let post = { (body: String) in try await parley.request(.POST, "/api/v1/assistants", body: body) }
        var cases: [(String, APIReply, Int)] = [
            ("no name", try await post(#"{"description":"x"}"#), 400),
            ("blank name", try await post(#"{"name":"  "}"#), 400),
            ("two lines", try await post(#"{"name":"a\nb"}"#), 400),
            ("long name", try await post(#"{"name":"\#(String(repeating: "n", count: 201))"}"#), 400),
            ("NUL", try await post(#"{"name":"a\u0000b"}"#), 400),
            ("long description", try await post(#"{"name":"x","description":"\#(String(repeating: "d", count: 2_001))"}"#), 400),
            ("unknown model", try await post(#"{"name":"x","model":"nope"}"#), 400),
            ("a base bob cannot read", try await post(#"{"name":"x","knowledge_base_ids":["\#(bobsBase)"]}"#), 400),
            ("not a base id", try await post(#"{"name":"x","knowledge_base_ids":["nope"]}"#), 400),
            ("name not a string", try await post(#"{"name":5}"#), 400),
            ("not JSON", try await post("{"), 400),
            ("unknown assistant", try await parley.request(.GET, "/api/v1/assistants/\(UUID().uuidString)"), 404),
            ("not an id", try await parley.request(.GET, "/api/v1/assistants/nope"), 404),
            ("blank name on change", try await parley.request(.PATCH, "/api/v1/assistants/\(id)", body: #"{"name":""}"#), 400),
            ("bob reads it", try await parley.request(.GET, "/api/v1/assistants/\(id)", headers: bob.headers), 404),
            ("bob changes it", try await parley.request(.PATCH, "/api/v1/assistants/\(id)", body: #"{"name":"his"}"#,
                                                        headers: bob.headers), 404),
            ("bob deletes it", try await parley.request(.DELETE, "/api/v1/assistants/\(id)", headers: bob.headers), 404),
            ("bob starts a chat with it", try await parley.request(.POST, "/api/v1/conversations", body: #"{"assistant_id":"\#(id)"}"#,
                                                                   headers: bob.headers), 400),
            ("a chat with no such assistant", try await parley.request(.POST, "/api/v1/conversations",
                                                                       body: #"{"assistant_id":"nope"}"#), 400),
        ]
        let retrievals = [#"{"passages":0}"#, #"{"passages":51}"#, #"{"passages":"four"}"#, #"{"passages":2.5}"#,
                          #"{"min_similarity":1.5}"#, #"{"min_similarity":-0.1}"#, #"{"rerank":"yes"}"#, #"{"k":4}"#, "7", "[]"]
        let conversation = try await parley.createConversation("{}")
        for retrieval in retrievals {
            cases.append(("assistant retrieval \(retrieval)", try await post(#"{"name":"x","retrieval":\#(retrieval)}"#), 400))
            cases.append(("changed retrieval \(retrieval)",
                          try await parley.request(.PATCH, "/api/v1/assistants/\(id)", body: #"{"retrieval":\#(retrieval)}"#), 400))
            cases.append(("conversation retrieval \(retrieval)",
                          try await parley.request(.POST, "/api/v1/conversations", body: #"{"retrieval":\#(retrieval)}"#), 400))
            cases.append(("conversation changed retrieval \(retrieval)",
                          try await parley.request(.PATCH, "/api/v1/conversations/\(conversation)", body: #"{"retrieval":\#(retrieval)}"#), 400))
        }
        for (name, reply, status) in cases {
            #expect(reply.status == status, "\(name): \(reply.status) \(reply.body)")
            #expect(reply.errorMessage?.isEmpty == false, "\(name) has a message: \(reply.body)")
        }
        #expect((try await parley.request(.GET, "/api/v1/assistants", headers: bob.headers).json["data"] as? [Any])?.isEmpty == true)
        #expect(try await parley.request(.GET, "/api/v1/assistants/\(id)").json["name"] as? String == "Mine", "still alice's, unchanged")
    }
}
