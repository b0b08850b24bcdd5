import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ParleyMockLLM
import ParleyServer
import Testing

/// The knowledge-base API through a real server over loopback, its SQLite file, and the mock model server's
/// embeddings: upload, durable ingestion, progress events, hybrid search, deletion, isolation and bad input.
@Suite struct KnowledgeAPITests {
    static let guide = """
        # Router guide

        ## Resetting

        To reset the router, hold the recessed button for ten seconds until the light blinks amber. \
        The router keeps its firmware but forgets every setting.

        ## Warranty

        The warranty lasts two years from the date of purchase and covers manufacturing defects. \
        Water damage is not covered.
        """

    static func start(embeddingModel: String? = "mock-1") async throws -> TestParley {
        try await TestParley.start { config in
            config.knowledge.embeddingModel = embeddingModel
            config.knowledge.limits.maxDocumentBytes = 64 << 10
        }
    }

    @Test func uploadIngestSearchReadAndDelete() async throws {
        let parley = try await Self.start()
        defer { Task { await parley.stop() } }
        let base = try await parley.createBase(#"{"name":"Support","description":"Router docs"}"#)
        #expect(base["embedding_model"] as? String == "mock-1" && base["search"] as? String == "hybrid")
        let baseID = try #require(base["id"] as? String)

        let upload = try await parley.upload(baseID, name: "router.md", Array(Self.guide.utf8))
        #expect(upload.status == 201, "\(upload.body)")
        let document = try #require(upload.json["document"] as? [String: Any])
        let documentID = try #require(document["id"] as? String)
        #expect(document["status"] as? String == "queued" && upload.json["duplicate"] as? Bool == false)
        #expect(upload.headers["location"] == "/api/v1/knowledge-bases/\(baseID)/documents/\(documentID)")

        let ready = try await parley.waitForDocument(baseID, documentID)
        #expect(ready["status"] as? String == "ready" && ready["kind"] as? String == "markdown", "\(ready)")
        #expect((ready["passage_count"] as? Int ?? 0) >= 2)

        let passages = try await parley.request(.GET, "/api/v1/knowledge-bases/\(baseID)/documents/\(documentID)/passages")
        let items = try #require(passages.json["data"] as? [[String: Any]])
        let warrantyPassage = try #require(items.first { ($0["text"] as? String)?.contains("two years") == true })
        #expect(warrantyPassage["heading_path"] as? [String] == ["Router guide", "Warranty"])

        // The text endpoint gives the text the offsets point into.
        let text = try await parley.request(.GET, "/api/v1/knowledge-bases/\(baseID)/documents/\(documentID)/text")
        #expect(text.status == 200 && text.headers["content-type"]?.hasPrefix("text/plain") == true)
        let start = try #require(warrantyPassage["start"] as? Int), end = try #require(warrantyPassage["end"] as? Int)
        let utf16 = Array(text.body.utf16)
        #expect(String(decoding: utf16[start..<end], as: UTF16.self) == warrantyPassage["text"] as? String)

        let search = try await parley.search(baseID, "How long does the warranty last?")
        #expect(search.status == 200, "\(search.body)")
        #expect(search.json["mode"] as? String == "hybrid")
        let hits = try #require(search.json["data"] as? [[String: Any]])
        let top = try #require(hits.first)
        #expect((top["text"] as? String)?.contains("two years") == true, "\(hits)")
        #expect(top["document_name"] as? String == "router.md" && top["text_rank"] as? Int == 1)
        #expect(hits.contains { $0["vector_rank"] != nil }, "the vector search took part")

        // The same content again is the same document.
        let again = try await parley.upload(baseID, name: "copy.md", Array(Self.guide.utf8))
        #expect(again.status == 200 && again.json["duplicate"] as? Bool == true)
        #expect((again.json["document"] as? [String: Any])?["id"] as? String == documentID)

        let deleted = try await parley.request(.DELETE, "/api/v1/knowledge-bases/\(baseID)/documents/\(documentID)")
        #expect(deleted.status == 204)
        let after = try await parley.search(baseID, "How long does the warranty last?")
        #expect((after.json["data"] as? [[String: Any]])?.isEmpty == true, "a deleted document is gone from search at once")
        let list = try await parley.request(.GET, "/api/v1/knowledge-bases/\(baseID)/documents")
        #expect((list.json["data"] as? [Any])?.isEmpty == true)
        #expect(try await parley.request(.DELETE, "/api/v1/knowledge-bases/\(baseID)").status == 204)
        #expect(try await parley.request(.GET, "/api/v1/knowledge-bases/\(baseID)").status == 404)
    }

    @Test func progressIsStreamedAsEvents() async throws {
        let parley = try await Self.start()
        defer { Task { await parley.stop() } }
        let baseID = try #require(try await parley.createBase(#"{"name":"Events"}"#)["id"] as? String)
        let events = try await parley.events(.GET, "/api/v1/knowledge-bases/\(baseID)/events")
        defer { events.cancel() }
        let upload = try await parley.upload(baseID, name: "guide.md", Array(Self.guide.utf8))
        let documentID = try #require((upload.json["document"] as? [String: Any])?["id"] as? String)
        let seen = try await events.read { $0.name == "document" && $0.data["status"] as? String == "ready" }
        #expect(seen.last?.data["id"] as? String == documentID)
        #expect((seen.last?.data["passage_count"] as? Int ?? 0) >= 2)
        _ = try await parley.request(.DELETE, "/api/v1/knowledge-bases/\(baseID)/documents/\(documentID)")
        let gone = try await events.read { $0.name == "deleted" }
        #expect(gone.last?.data["id"] as? String == documentID)
    }

    @Test func changingTheEmbeddingModelReembedsWhileTheOldVectorsAnswer() async throws {
        var slowEmbeddings = MockLLMServer.Options()
        slowEmbeddings.embeddingDelayMs = 300
        let parley = try await TestParley.start(mockOptions: slowEmbeddings) { config in
            config.knowledge.embeddingModel = "mock-1"
        }
        defer { Task { await parley.stop() } }
        let baseID = try #require(try await parley.createBase(#"{"name":"Models"}"#)["id"] as? String)
        let base = "/api/v1/knowledge-bases/\(baseID)"
        let upload = try await parley.upload(baseID, name: "router.md", Array(Self.guide.utf8))
        let documentID = try #require((upload.json["document"] as? [String: Any])?["id"] as? String)
        _ = try await parley.waitForDocument(baseID, documentID)
        let events = try await parley.events(.GET, base + "/events")
        defer { events.cancel() }
        let first = try await events.read { $0.name == "embedding" }
        #expect(first.last?.data["embedding_model"] as? String == "mock-1" && first.last?.data["reembedding"] == nil)
        let embeddedBefore = parley.mockServer?.counters.snapshot["embeddings"] ?? 0

        let changed = try await parley.request(.PATCH, base, body: #"{"embedding_model":"mock-2"}"#)
        #expect(changed.status == 200, "\(changed.body)")
        #expect(changed.json["embedding_model"] as? String == "mock-1", "the old model answers until the new one is ready")
        let progress = try #require(changed.json["reembedding"] as? [String: Any], "\(changed.body)")
        #expect(progress["model"] as? String == "mock-2" && ["queued", "processing"].contains(progress["status"] as? String))
        #expect((progress["total"] as? Int ?? 0) >= 2)

        let during = try await parley.search(baseID, "How long does the warranty last?")
        #expect(during.status == 200 && during.json["mode"] as? String == "hybrid", "\(during.body)")
        #expect(((during.json["data"] as? [[String: Any]])?.first?["text"] as? String)?.contains("two years") == true)

        let done = try await events.read { $0.name == "embedding" && $0.data["embedding_model"] as? String == "mock-2" }
        #expect(done.last?.data["reembedding"] == nil && done.last?.data["embedding_dimensions"] as? Int == 8)
        let after = try await parley.request(.GET, base)
        #expect(after.json["embedding_model"] as? String == "mock-2" && after.json["reembedding"] == nil, "\(after.body)")
        #expect((parley.mockServer?.counters.snapshot["embeddings"] ?? 0) > embeddedBefore, "the passages were embedded again")
        let search = try await parley.search(baseID, "How long does the warranty last?")
        let hits = try #require(search.json["data"] as? [[String: Any]])
        #expect(search.json["mode"] as? String == "hybrid" && hits.contains { $0["vector_rank"] != nil }, "\(search.body)")

        // No model: full-text only, at once; naming one again embeds everything before vectors take part.
        let plain = try await parley.request(.PATCH, base, body: #"{"embedding_model":null}"#)
        #expect(plain.status == 200 && plain.json["search"] as? String == "full_text" && plain.json["embedding_model"] == nil)
        #expect(try await parley.search(baseID, "warranty").json["mode"] as? String == "full_text")
        let again = try await parley.request(.PATCH, base, body: #"{"embedding_model":"mock-1"}"#)
        #expect(again.json["search"] as? String == "full_text" && (again.json["reembedding"] as? [String: Any])?["model"] as? String == "mock-1")
        _ = try await events.read { $0.name == "embedding" && $0.data["embedding_model"] as? String == "mock-1" }
        #expect(try await parley.search(baseID, "warranty").json["mode"] as? String == "hybrid")

        // Bad input, and a base that is not one's own.
        let admin = try await parley.signIn(email: TestUsers.adminEmail)
        let bob = try await parley.createUser("bob@example.com", by: admin)
        let cases: [(String, APIReply, Int)] = [
            ("unknown model", try await parley.request(.PATCH, base, body: #"{"embedding_model":"nope"}"#), 400),
            ("not a string", try await parley.request(.PATCH, base, body: #"{"embedding_model":5}"#), 400),
            ("NUL", try await parley.request(.PATCH, base, body: #"{"embedding_model":"mock\u00002"}"#), 400),
            ("too long", try await parley.request(.PATCH, base, body: #"{"embedding_model":"\#(String(repeating: "m", count: 201))"}"#), 400),
            ("someone else's", try await parley.request(.PATCH, base, body: #"{"embedding_model":"mock-2"}"#, headers: bob.headers), 404),
        ]
        for (name, reply, status) in cases {
            #expect(reply.status == status, "\(name): \(reply.status) \(reply.body)")
            #expect(reply.errorMessage?.isEmpty == false, "\(name) has a message: \(reply.body)")
        }
        let unchanged = try await parley.request(.GET, base)
        #expect(unchanged.json["embedding_model"] as? String == "mock-1" && unchanged.json["reembedding"] == nil)
    }

    @Test func aRerankModelReordersTheBestPassagesAndAFailureKeepsTheFusedOrder() async throws {
        let parley = try await TestParley.start { config in
            config.knowledge.embeddingModel = "mock-1"
            config.knowledge.rerankModel = "mock-2"
        }
        defer { Task { await parley.stop() } }
        let baseID = try #require(try await parley.createBase(#"{"name":"Reranked"}"#)["id"] as? String)
        let sections = (1...12).map { "## Part \($0)\n\nThe filter of unit \($0) is cleaned with water." }
        let manual = "# Filters\n\n" + sections.joined(separator: "\n\n")
            + "\n\n## Replacing\n\nReplace the filter every six months; how often depends on the water."
        let upload = try await parley.upload(baseID, name: "filters.md", Array(manual.utf8))
        _ = try await parley.waitForDocument(baseID, try #require((upload.json["document"] as? [String: Any])?["id"] as? String))

        let before = parley.mockServer?.counters.snapshot["rerank"] ?? 0
        let search = try await parley.request(.POST, "/api/v1/knowledge-bases/\(baseID)/search",
                                              body: #"{"query":"how often should I replace the filter","limit":3}"#)
        #expect(search.status == 200 && search.json["reranked_by"] as? String == "mock-2" && search.json["note"] == nil, "\(search.body)")
        let hits = try #require(search.json["data"] as? [[String: Any]])
        #expect(hits.count == 3, "the limit holds after reranking more candidates")
        let scores = hits.compactMap { $0["rerank_score"] as? Double }
        #expect(scores.count == 3 && scores == scores.sorted(by: >), "ordered by the reranker: \(scores)")
        // The mock scores the share of the question's words (of three letters or more) a passage holds.
        #expect((hits.first?["text"] as? String)?.contains("Replace the filter every six months") == true, "\(hits)")
        #expect(scores.first == 5.0 / 6.0, "how, often, replace, the, filter of how, often, should, replace, the, filter")
        #expect((parley.mockServer?.counters.snapshot["rerank"] ?? 0) == before + 1)

        // The reranker failing leaves the fused order, says so, and still answers.
        let failed = try await parley.request(.POST, "/api/v1/knowledge-bases/\(baseID)/search",
                                              body: #"{"query":"replace the filter mock:fault=400","limit":3}"#)
        #expect(failed.status == 200 && failed.json["reranked_by"] == nil, "\(failed.body)")
        #expect((failed.json["note"] as? String)?.contains("reranking with mock-2 failed") == true, "\(failed.body)")
        let fused = try #require(failed.json["data"] as? [[String: Any]])
        #expect(fused.count == 3 && fused.allSatisfy { $0["rerank_score"] == nil })

        // Chat turns are grounded through the same retrieval.
        let conversation = try await parley.createConversation(#"{"knowledge_base_ids":["\#(baseID)"]}"#)
        let turn = try await parley.chat(conversation, "How often should I replace the filter? mock:echo=system mock:tokens=2000")
        #expect(turn.last?.name == "done")
        #expect(turn.deltaText.contains("[1] filters.md, Filters › Replacing"), "\(turn.deltaText.prefix(600))")
    }

    @Test func withoutAnEmbeddingModelSearchIsFullTextAndSaysSo() async throws {
        let parley = try await Self.start(embeddingModel: nil)
        defer { Task { await parley.stop() } }
        let base = try await parley.createBase(#"{"name":"Plain"}"#)
        #expect(base["search"] as? String == "full_text" && base["embedding_model"] == nil)
        let baseID = try #require(base["id"] as? String)
        let upload = try await parley.upload(baseID, name: "guide.md", Array(Self.guide.utf8))
        let documentID = try #require((upload.json["document"] as? [String: Any])?["id"] as? String)
        _ = try await parley.waitForDocument(baseID, documentID)
        let search = try await parley.search(baseID, "reset button")
        #expect(search.json["mode"] as? String == "full_text")
        #expect(((search.json["data"] as? [[String: Any]])?.first?["text"] as? String)?.contains("recessed button") == true)
        #expect(parley.mockServer?.counters.snapshot["embeddings"] == nil, "nothing was embedded")
    }

    @Test func aFileWithoutTextFailsWithTheReasonAndCanBeRetried() async throws {
        let parley = try await Self.start()
        defer { Task { await parley.stop() } }
        let baseID = try #require(try await parley.createBase(#"{"name":"Files"}"#)["id"] as? String)
        let binary: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 0, 1, 2, 3, 0, 0, 0xFF]
        let upload = try await parley.upload(baseID, name: "parley.bin", binary, contentType: "application/octet-stream")
        let documentID = try #require((upload.json["document"] as? [String: Any])?["id"] as? String)
        let failed = try await parley.waitForDocument(baseID, documentID)
        #expect(failed["status"] as? String == "failed" && (failed["error"] as? String)?.isEmpty == false, "\(failed)")
        #expect(failed["attempts"] as? Int == 1, "a file that holds no text is not retried on its own")
        let retried = try await parley.request(.POST, "/api/v1/knowledge-bases/\(baseID)/documents/\(documentID)/retry")
        #expect(retried.status == 200 && retried.json["status"] as? String == "queued")
        let cancel = try await parley.request(.POST, "/api/v1/knowledge-bases/\(baseID)/documents/\(documentID)/cancel")
        #expect([200, 409].contains(cancel.status), "cancelled if still pending, else a conflict: \(cancel.body)")
    }

    @Test func badInputGetsClearErrors() async throws {
        let parley = try await Self.start()
        defer { Task { await parley.stop() } }
        let baseID = try #require(try await parley.createBase(#"{"name":"Checks"}"#)["id"] as? String)
        let cases: [(String, APIReply, Int)] = [
            ("no name", try await parley.request(.POST, "/api/v1/knowledge-bases", body: #"{"description":"x"}"#), 400),
            ("blank name", try await parley.request(.POST, "/api/v1/knowledge-bases", body: #"{"name":"  "}"#), 400),
            ("long name", try await parley.request(.POST, "/api/v1/knowledge-bases",
                                                   body: #"{"name":"\#(String(repeating: "n", count: 201))"}"#), 400),
            ("unknown embedding model", try await parley.request(.POST, "/api/v1/knowledge-bases",
                                                                 body: #"{"name":"x","embedding_model":"nope"}"#), 400),
            ("not JSON", try await parley.request(.POST, "/api/v1/knowledge-bases", body: "{"), 400),
            ("unknown base", try await parley.request(.GET, "/api/v1/knowledge-bases/\(UUID().uuidString)"), 404),
            ("not an id", try await parley.request(.GET, "/api/v1/knowledge-bases/nope/documents"), 404),
            ("unknown document", try await parley.request(.GET, "/api/v1/knowledge-bases/\(baseID)/documents/\(UUID().uuidString)"), 404),
            ("no document name", try await parley.upload(baseID, name: nil, Array("text".utf8)), 400),
            ("empty document", try await parley.upload(baseID, name: "empty.txt", []), 400),
            ("too large", try await parley.upload(baseID, name: "big.txt", Array(repeating: 65, count: (64 << 10) + 1)), 413),
            ("multipart", try await parley.upload(baseID, name: "a.txt", Array("--x\r\n".utf8),
                                                  contentType: "multipart/form-data; boundary=x"), 415),
            ("empty query", try await parley.request(.POST, "/api/v1/knowledge-bases/\(baseID)/search", body: #"{"query":" "}"#), 400),
            ("limit out of range", try await parley.request(.POST, "/api/v1/knowledge-bases/\(baseID)/search",
                                                            body: #"{"query":"x","limit":500}"#), 400),
            ("unknown reader", try await parley.request(.PATCH, "/api/v1/knowledge-bases/\(baseID)",
                                                        body: #"{"readers":["nobody@example.com"]}"#), 400),
            ("not pending", try await parley.request(.POST, "/api/v1/knowledge-bases/\(baseID)/documents/\(UUID().uuidString)/cancel"), 404),
        ]
        for (name, reply, status) in cases {
            #expect(reply.status == status, "\(name): \(reply.status) \(reply.body)")
            #expect(reply.errorMessage?.isEmpty == false, "\(name) has a message: \(reply.body)")
        }
        // The name may come from Content-Disposition.
        let named = try await parley.upload(baseID, name: nil, Array("# Notes\nplain words".utf8),
                                            headers: ["Content-Disposition": #"attachment; filename="notes.md""#])
        #expect(named.status == 201 && (named.json["document"] as? [String: Any])?["name"] as? String == "notes.md")
    }

    @Test func anotherUsersBaseIsUnreachableUntilShared() async throws {
        let parley = try await Self.start()
        defer { Task { await parley.stop() } }
        let admin = try await parley.signIn(email: TestUsers.adminEmail)
        let bob = try await parley.createUser("bob@example.com", by: admin)
        let baseID = try #require(try await parley.createBase(#"{"name":"Private"}"#)["id"] as? String)
        let upload = try await parley.upload(baseID, name: "guide.md", Array(Self.guide.utf8))
        let documentID = try #require((upload.json["document"] as? [String: Any])?["id"] as? String)
        _ = try await parley.waitForDocument(baseID, documentID)
        let base = "/api/v1/knowledge-bases/\(baseID)"
        let asBob = bob.headers
        func bobSees() async throws -> [Int] {
            [
                try await parley.request(.GET, base, headers: asBob).status,
                try await parley.request(.GET, base + "/documents", headers: asBob).status,
                try await parley.request(.GET, base + "/documents/\(documentID)", headers: asBob).status,
                try await parley.request(.GET, base + "/documents/\(documentID)/passages", headers: asBob).status,
                try await parley.request(.GET, base + "/documents/\(documentID)/text", headers: asBob).status,
                try await parley.request(.POST, base + "/search", body: #"{"query":"warranty"}"#, headers: asBob).status,
            ]
        }
        #expect(try await bobSees() == [404, 404, 404, 404, 404, 404])
        let bobsList = try await parley.request(.GET, "/api/v1/knowledge-bases", headers: asBob)
        #expect((bobsList.json["data"] as? [Any])?.isEmpty == true)

        let shared = try await parley.request(.PATCH, base, body: #"{"readers":["Bob@Example.com"]}"#)
        #expect(shared.status == 200 && shared.json["readers"] as? [String] == ["bob@example.com"], "\(shared.body)")
        #expect(try await bobSees() == [200, 200, 200, 200, 200, 200])
        let bobsView = try await parley.request(.GET, base, headers: asBob)
        #expect(bobsView.json["owned"] as? Bool == false && bobsView.json["readers"] == nil, "a reader does not see who else reads")
        // Reading is all a reader may do.
        let changes = [
            try await parley.request(.PATCH, base, body: #"{"name":"mine"}"#, headers: asBob).status,
            try await parley.request(.DELETE, base + "/documents/\(documentID)", headers: asBob).status,
            try await parley.upload(baseID, name: "x.md", Array("# x\nmore".utf8), headers: asBob).status,
            try await parley.request(.DELETE, base, headers: asBob).status,
        ]
        #expect(changes == [404, 404, 404, 404])
        // Only an administrator shares with everyone.
        let bobsBase = try #require(try await parley.createBase(#"{"name":"Bob's"}"#, headers: asBob)["id"] as? String)
        let everyone = try await parley.request(.PATCH, "/api/v1/knowledge-bases/\(bobsBase)",
                                                body: #"{"shared_with_everyone":true}"#, headers: asBob)
        #expect(everyone.status == 403, "\(everyone.body)")
        _ = try await parley.request(.PATCH, base, body: #"{"readers":[]}"#)
        #expect(try await bobSees() == [404, 404, 404, 404, 404, 404])
    }
}

extension ParleyAPI {
    func createBase(_ body: String, headers: [String: String] = [:]) async throws -> [String: Any] {
        let reply = try await request(.POST, "/api/v1/knowledge-bases", body: body, headers: headers)
        try #require(reply.status == 201, "create knowledge base: \(reply.status) \(reply.body)")
        return reply.json
    }

    /// Uploads `content` as the request body, named by `?name=` when given.
    func upload(_ baseID: String, name: String?, _ content: [UInt8], contentType: String = "text/markdown",
                headers: [String: String] = [:]) async throws -> APIReply {
        let query = name.map { "?name=" + ($0.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? $0) } ?? ""
        var request = HTTPClientRequest(url: baseURL + "/api/v1/knowledge-bases/\(baseID)/documents" + query)
        request.method = .POST
        for (field, value) in withCredentials(headers) { request.headers.add(name: field, value: value) }
        request.headers.add(name: "Content-Type", value: contentType)
        request.body = .bytes(ByteBuffer(bytes: content))
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        var fields: [String: String] = [:]
        for header in response.headers { fields[header.name.lowercased()] = header.value }
        return APIReply(status: Int(response.status.code), headers: fields, body: String(buffer: bytes))
    }

    func search(_ baseID: String, _ query: String, headers: [String: String] = [:]) async throws -> APIReply {
        try await request(.POST, "/api/v1/knowledge-bases/\(baseID)/search", body: #"{"query":\#(quoted(query))}"#, headers: headers)
    }

    /// Polls the document until it is no longer queued or processing, and returns it.
    func waitForDocument(_ baseID: String, _ documentID: String, timeout: Duration = .seconds(30),
                         headers: [String: String] = [:]) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let reply = try await request(.GET, "/api/v1/knowledge-bases/\(baseID)/documents/\(documentID)", headers: headers)
            try #require(reply.status == 200, "\(reply.status) \(reply.body)")
            let status = reply.json["status"] as? String
            if status != "queued" && status != "processing" { return reply.json }
            try #require(ContinuousClock.now < deadline, "document \(documentID) still \(status ?? "?")")
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// Chats grounded in knowledge bases: the mock model echoes the system prompt Parley built, so the test sees the
/// numbered passages the model was given, and the sources and citations stored on the answer.
@Suite struct GroundedChatTests {
    @Test func anAnswerCitesThePassagesItWasGiven() async throws {
        let parley = try await KnowledgeAPITests.start()
        defer { Task { await parley.stop() } }
        let baseID = try #require(try await parley.createBase(#"{"name":"Support"}"#)["id"] as? String)
        let upload = try await parley.upload(baseID, name: "router.md", Array(KnowledgeAPITests.guide.utf8))
        let documentID = try #require((upload.json["document"] as? [String: Any])?["id"] as? String)
        _ = try await parley.waitForDocument(baseID, documentID)

        let conversation = try await parley.createConversation(#"{"knowledge_base_ids":["\#(baseID.uppercased())"]}"#)
        let shown = try await parley.request(.GET, "/api/v1/conversations/\(conversation)")
        #expect(shown.json["knowledge_base_ids"] as? [String] == [baseID])
        let events = try await parley.chat(conversation, "How long does the warranty last? mock:echo=system mock:tokens=400")
        #expect(events.last?.name == "done", "\(events.map(\.name))")
        let answerID = try #require(events.first { $0.name == "message" && $0.data["role"] as? String == "assistant" }?.data["id"]
            as? String ?? events.compactMap { $0.data["message_id"] as? String }.first)
        let answer = try await parley.request(.GET, "/api/v1/messages/\(answerID)").json
        let content = try #require(answer["content"] as? String)
        let sources = try #require(answer["sources"] as? [[String: Any]])
        #expect(!sources.isEmpty)
        let warranty = try #require(sources.first { ($0["text"] as? String)?.contains("two years") == true })
        let number = try #require(warranty["n"] as? Int)
        #expect(warranty["document_name"] as? String == "router.md" && warranty["document_id"] as? String == documentID)
        #expect(warranty["heading_path"] as? [String] == ["Router guide", "Warranty"])
        // What the model was given: each source under its number, with where it comes from.
        #expect(content.contains("Cite the source of each statement"))
        #expect(content.contains("[\(number)] router.md, Router guide › Warranty\n## Warranty\n\nThe warranty lasts two years"), "\(content.prefix(1500))")
        // Citations are the numbers the answer uses; each one names a source that holds what follows it.
        let citations = try #require(answer["citations"] as? [Int])
        #expect(citations.contains(number))
        for cited in citations {
            let source = try #require(sources.first { $0["n"] as? Int == cited })
            #expect(content.contains("[\(cited)] ") == false || content.contains(source["text"] as? String ?? "\u{0}"),
                    "source \(cited) is the passage shown under its number")
        }
    }

    @Test func aPinnedDocumentIsGivenWholeAheadOfTheSearchedPassages() async throws {
        let parley = try await KnowledgeAPITests.start()
        defer { Task { await parley.stop() } }
        let baseID = try #require(try await parley.createBase(#"{"name":"Support"}"#)["id"] as? String)
        let base = "/api/v1/knowledge-bases/\(baseID)"
        let guide = try await parley.upload(baseID, name: "router.md", Array(KnowledgeAPITests.guide.utf8))
        _ = try await parley.waitForDocument(baseID, try #require((guide.json["document"] as? [String: Any])?["id"] as? String))
        let items = (1...60).map { "- Item \($0): a part numbered \(1000 + $0), kept on shelf \($0 % 7)." }
        let inventory = "# Inventory\n\n" + items.joined(separator: "\n")
        let upload = try await parley.upload(baseID, name: "inventory.md", Array(inventory.utf8))
        let documentID = try #require((upload.json["document"] as? [String: Any])?["id"] as? String)
        let ready = try await parley.waitForDocument(baseID, documentID)
        #expect(ready["pinned"] as? Bool == false && (ready["passage_count"] as? Int ?? 0) > 2, "\(ready)")

        let pinned = try await parley.request(.PATCH, base + "/documents/\(documentID)", body: #"{"pinned":true}"#)
        #expect(pinned.status == 200 && pinned.json["pinned"] as? Bool == true, "\(pinned.body)")
        let conversation = try await parley.createConversation(#"{"knowledge_base_ids":["\#(baseID)"]}"#)
        let events = try await parley.chat(conversation, "How long does the warranty last? mock:echo=system mock:tokens=5000")
        #expect(events.last?.name == "done", "\(events.map(\.name))")
        let page = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages").decode(MessagePageJSON.self)
        let answer = try await parley.request(.GET, "/api/v1/messages/\(try #require(page.data.last?.id))").json
        let content = try #require(answer["content"] as? String)
        // The whole inventory, every item once, as source 1; the passage the search found comes after it.
        #expect(content.contains("[1] inventory.md (the whole document)\n# Inventory\n\n- Item 1: "), "\(content.prefix(600))")
        for item in items { #expect(content.components(separatedBy: item).count == 2, "\(item) given once") }
        #expect(content.contains("[2] router.md, Router guide › Warranty"), "\(content.suffix(800))")
        let sources = try #require(answer["sources"] as? [[String: Any]])
        #expect(sources.first?["pinned"] as? Bool == true && sources.first?["document_id"] as? String == documentID)
        #expect(sources.first?["start"] as? Int == 0 && sources.first?["end"] as? Int == inventory.utf16.count)
        #expect(sources.dropFirst().allSatisfy { $0["pinned"] == nil && $0["document_name"] as? String == "router.md" })

        // Unpinned, the inventory is only searched again.
        let unpinned = try await parley.request(.PATCH, base + "/documents/\(documentID)", body: #"{"pinned":false}"#)
        #expect(unpinned.status == 200 && unpinned.json["pinned"] as? Bool == false)
        let next = try await parley.chat(conversation, "And the warranty? mock:echo=system mock:tokens=5000")
        #expect(!next.deltaText.contains("(the whole document)") && next.deltaText.contains("two years"))

        // Bad input, and someone who may read the base but not change it.
        let admin = try await parley.signIn(email: TestUsers.adminEmail)
        let bob = try await parley.createUser("bob@example.com", by: admin)
        _ = try await parley.request(.PATCH, base, body: #"{"readers":["bob@example.com"]}"#)
        let cases: [(String, APIReply, Int)] = [
            ("not a boolean", try await parley.request(.PATCH, base + "/documents/\(documentID)", body: #"{"pinned":"yes"}"#), 400),
            ("nothing to change", try await parley.request(.PATCH, base + "/documents/\(documentID)", body: "{}"), 400),
            ("not JSON", try await parley.request(.PATCH, base + "/documents/\(documentID)", body: "{"), 400),
            ("unknown document", try await parley.request(.PATCH, base + "/documents/\(UUID().uuidString)", body: #"{"pinned":true}"#), 404),
            ("a reader", try await parley.request(.PATCH, base + "/documents/\(documentID)", body: #"{"pinned":true}"#,
                                                  headers: bob.headers), 404),
        ]
        for (name, reply, status) in cases {
            #expect(reply.status == status, "\(name): \(reply.status) \(reply.body)")
            #expect(reply.errorMessage?.isEmpty == false, "\(name) has a message: \(reply.body)")
        }
    }

    @Test func withNothingRelevantTheModelIsToldToSaySo() async throws {
        let parley = try await KnowledgeAPITests.start(embeddingModel: nil)
        defer { Task { await parley.stop() } }
        let baseID = try #require(try await parley.createBase(#"{"name":"Support"}"#)["id"] as? String)
        let upload = try await parley.upload(baseID, name: "router.md", Array(KnowledgeAPITests.guide.utf8))
        _ = try await parley.waitForDocument(baseID, try #require((upload.json["document"] as? [String: Any])?["id"] as? String))
        let conversation = try await parley.createConversation(#"{"knowledge_base_ids":["\#(baseID)"]}"#)
        let events = try await parley.chat(conversation, "Quelle est la capitale du Pérou? mock:echo=system mock:tokens=400")
        let content = events.deltaText
        #expect(content.contains("has no passage about this question") && content.contains("“Support”"), "\(content)")
        let page = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages").decode(MessagePageJSON.self)
        #expect(page.data.last?.status == "complete")
        let answer = try await parley.request(.GET, "/api/v1/messages/\(page.data.last!.id)").json
        #expect((answer["sources"] as? [Any])?.isEmpty == true && (answer["citations"] as? [Int])?.isEmpty == true)
    }

    @Test func conversationsOnlyTakeBasesTheirUserCanRead() async throws {
        let parley = try await KnowledgeAPITests.start()
        defer { Task { await parley.stop() } }
        let admin = try await parley.signIn(email: TestUsers.adminEmail)
        let bob = try await parley.createUser("bob@example.com", by: admin)
        let baseID = try #require(try await parley.createBase(#"{"name":"Private"}"#)["id"] as? String)
        let refused = try await parley.request(.POST, "/api/v1/conversations", body: #"{"knowledge_base_ids":["\#(baseID)"]}"#,
                                               headers: bob.headers)
        #expect(refused.status == 400 && refused.errorMessage?.contains(baseID) == true, "\(refused.body)")
        let malformed = try await parley.request(.POST, "/api/v1/conversations", body: #"{"knowledge_base_ids":["nope"]}"#)
        #expect(malformed.status == 400)
        let tooMany = try await parley.request(.POST, "/api/v1/conversations",
                                               body: #"{"knowledge_base_ids":[\#((0..<11).map { _ in "\"\(baseID)\"" }.joined(separator: ","))]}"#)
        #expect(tooMany.status == 400)
        // A base deleted after it was attached no longer grounds the answers; the chat goes on.
        let conversation = try await parley.createConversation(#"{"knowledge_base_ids":["\#(baseID)"]}"#)
        #expect(try await parley.request(.DELETE, "/api/v1/knowledge-bases/\(baseID)").status == 204)
        let events = try await parley.chat(conversation, "hello mock:echo=system mock:tokens=2")
        #expect(events.last?.name == "done")
        #expect(!events.deltaText.contains("knowledge base"))
        let detached = try await parley.request(.PATCH, "/api/v1/conversations/\(conversation)", body: #"{"knowledge_base_ids":[]}"#)
        #expect(detached.status == 200 && (detached.json["knowledge_base_ids"] as? [String])?.isEmpty == true)
    }
}

/// `parley ask --kb`: the real client against the real server, answering from a knowledge base by its name.
@Suite struct KnowledgeTerminalTests {
    @Test func askWithAKnowledgeBaseCitesItsSourcesOnStandardError() async throws {
        try await TerminalClientTests.withServer(["--knowledge-embedding-model", "mock-1"]) { setup in
            let baseID = try #require(try await setup.client.createBase(#"{"name":"Support"}"#)["id"] as? String)
            let upload = try await setup.client.upload(baseID, name: "router.md", Array(KnowledgeAPITests.guide.utf8))
            _ = try await setup.client.waitForDocument(baseID, try #require((upload.json["document"] as? [String: Any])?["id"] as? String))

            let asked = try await setup.parley(["ask", "--kb", "support", "How long does the warranty last? mock:echo=system mock:tokens=400"])
            #expect(asked.status == 0, "\(asked)")
            #expect(asked.out.contains("The warranty lasts two years"), "the model was given the passage: \(asked.out.prefix(400))")
            #expect(asked.err.hasPrefix("Sources:\n[1] router.md, Router guide › Warranty"), "\(asked.err)")
            let conversation = try await setup.client.request(.GET, "/api/v1/conversations?limit=1")
            #expect((conversation.json["data"] as? [[String: Any]])?.first?["knowledge_base_ids"] as? [String] == [baseID])

            let json = try await setup.parley(["ask", "-c", "--json", "And the reset? mock:echo=system mock:tokens=400"])
            let message = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any], "\(json)")
            #expect((message["sources"] as? [[String: Any]])?.isEmpty == false && message["citations"] is [Int])

            let unknown = try await setup.parley(["ask", "--kb", "nonexistent", "hello"])
            #expect(unknown.status == 1 && unknown.err.contains("no knowledge base named 'nonexistent'"), "\(unknown)")
        }
    }

    @Test func askSetsHowTheKnowledgeBasesAreSearched() async throws {
        try await TerminalClientTests.withServer(["--knowledge-embedding-model", "mock-1"]) { setup in
            let baseID = try #require(try await setup.client.createBase(#"{"name":"Support"}"#)["id"] as? String)
            let upload = try await setup.client.upload(baseID, name: "router.md", Array(KnowledgeAPITests.guide.utf8))
            _ = try await setup.client.waitForDocument(baseID, try #require((upload.json["document"] as? [String: Any])?["id"] as? String))
            func latestRetrieval() async throws -> [String: Any]? {
                let list = try await setup.client.request(.GET, "/api/v1/conversations?limit=1")
                return (list.json["data"] as? [[String: Any]])?.first?["retrieval"] as? [String: Any]
            }

            let tuned = try await setup.parley(["ask", "--kb", "support", "--passages", "1", "--min-similarity", "0.4", "--no-rerank",
                                                "How long does the warranty last? mock:echo=system mock:tokens=400"])
            #expect(tuned.status == 0, "\(tuned)")
            #expect(tuned.err.hasPrefix("Sources:\n[1] ") && !tuned.err.contains("\n[2] "), "one passage asked for: \(tuned.err)")
            let retrieval = try #require(try await latestRetrieval())
            #expect(retrieval["passages"] as? Int == 1 && retrieval["min_similarity"] as? Double == 0.4 && retrieval["rerank"] as? Bool == false,
                    "\(retrieval)")

            let continued = try await setup.parley(["ask", "-c", "--passages", "3", "And the reset? mock:echo=system mock:tokens=400"])
            #expect(continued.status == 0, "\(continued)")
            #expect(try await latestRetrieval()?["passages"] as? Int == 3, "the continued conversation searches as told")

            for bad in [["--passages", "0"], ["--passages", "51"], ["--min-similarity", "1.5"]] {
                let refused = try await setup.parley(["ask", "--kb", "support"] + bad + ["hello"])
                #expect(refused.status == 1 && refused.err.hasPrefix("parley: ") && refused.out.isEmpty, "\(bad): \(refused)")
            }
        }
    }
}
