import Foundation
import Testing

/// Imports of other apps' exports through the real server: the report, the conversations with their branches
/// listed as the caller's alone, and clear refusals.
@Suite struct ImportAPITests {
    /// A ChatGPT `conversations.json` with two conversations, one with an edited question (two branches).
    static let chatGPTFile = """
        [{"title": "Kea facts", "create_time": 1700000000, "update_time": 1700000300, "current_node": "a1",
          "mapping": {
           "r": {"id": "r", "message": null, "parent": null, "children": ["u1", "u1b"]},
           "u1": {"id": "u1", "parent": "r", "children": ["a1"], "message": {"author": {"role": "user"},
                  "create_time": 1700000001, "content": {"content_type": "text", "parts": ["Are kea clever?"]}}},
           "a1": {"id": "a1", "parent": "u1", "children": [], "message": {"author": {"role": "assistant"},
                  "create_time": 1700000002, "content": {"content_type": "text", "parts": ["Very: they solve puzzles."]},
                  "metadata": {"model_slug": "gpt-4o"}}},
           "u1b": {"id": "u1b", "parent": "r", "children": ["a1b"], "message": {"author": {"role": "user"},
                   "create_time": 1700000100, "content": {"content_type": "text", "parts": ["Where do kea live?"]}}},
           "a1b": {"id": "a1b", "parent": "u1b", "children": [], "message": {"author": {"role": "assistant"},
                   "create_time": 1700000101, "content": {"content_type": "text", "parts": ["In the Southern Alps."]}}}}},
         {"title": "Second", "create_time": 1700001000, "current_node": "x",
          "mapping": {"x": {"id": "x", "parent": null, "children": [], "message": {"author": {"role": "user"},
                      "create_time": 1700001000, "content": {"content_type": "text", "parts": ["hello"]}}}}},
         {"title": "Empty", "mapping": {}}]
        """

    @Test func anExportBecomesTheCallersConversationsWithTheirBranches() async throws {
        try await TestParley.with { parley in
            let reply = try await parley.request(.POST, "/api/v1/imports", body: Self.chatGPTFile,
                                                 headers: ["Content-Type": "application/json"])
            #expect(reply.status == 201, "\(reply.body)")
            #expect(reply.json["formats"] as? [String] == ["chatgpt"] && reply.json["conversations"] as? Int == 2)
            #expect(reply.json["messages"] as? Int == 5 && reply.json["skipped_count"] as? Int == 1)
            let skipped = (reply.json["skipped"] as? [[String: Any]])?.first
            #expect(skipped?["title"] as? String == "Empty" && skipped?["position"] as? Int == 2)

            let list = try await parley.request(.GET, "/api/v1/conversations")
            let conversations = list.json["data"] as? [[String: Any]] ?? []
            #expect(Set(conversations.compactMap { $0["title"] as? String }) == ["Kea facts", "Second"])
            let kea = try #require(conversations.first { $0["title"] as? String == "Kea facts" }?["id"] as? String)
            let messages = try await BranchAPITests.page(parley, kea)
            #expect(messages.compactMap { $0["content"] as? String } == ["Are kea clever?", "Very: they solve puzzles."],
                    "the branch ChatGPT showed")
            let versions = messages.first?["siblings"] as? [String] ?? []
            #expect(versions.count == 2)
            let switched = try await parley.request(.POST, "/api/v1/conversations/\(kea)/branch",
                                                    body: "{\"message_id\":\"\(versions.last ?? "")\"}")
            let other = (switched.json["data"] as? [[String: Any]] ?? []).compactMap { $0["content"] as? String }
            #expect(other == ["Where do kea live?", "In the Southern Alps."])
            // The imported conversation goes on like any other.
            let next = try await parley.chat(kea, "And their diet? mock:echo=context")
            #expect(next.deltaText.contains("Southern Alps") && !next.deltaText.contains("puzzles"))

            // Only the importer sees them.
            let admin = try await parley.signIn(email: TestUsers.adminEmail)
            let bob = try await parley.createUser("bob@example.org", by: admin)
            let bobs = try await parley.request(.GET, "/api/v1/conversations", headers: bob.headers)
            #expect((bobs.json["data"] as? [Any])?.isEmpty == true)
            #expect(try await parley.request(.GET, "/api/v1/conversations/\(kea)", headers: bob.headers).status == 404)
        }
    }

    @Test func whatCannotBeImportedIsRefusedClearly() async throws {
        try await TestParley.with(configure: { $0.maxImportBytes = 4096 }) { parley in
            for (body, message) in [("Title,Body\nhello,world", "not a JSON array or object"),
                                    ("[1, 2]", "conversation 1: not a conversation"), ("[]", "holds no conversation"),
                                    (#"[{"title": "cut", "mapping": {"#, "ends in the middle")] {
                let reply = try await parley.request(.POST, "/api/v1/imports", body: body)
                #expect(reply.status == 400 && reply.errorMessage?.contains(message) == true, "\(body): \(reply.status) \(reply.body)")
            }
            let large = "[" + String(repeating: " ", count: 5000) + "]"
            let tooLarge = try await parley.request(.POST, "/api/v1/imports", body: large)
            #expect(tooLarge.status == 413, "\(tooLarge.body)")
            let form = try await parley.request(.POST, "/api/v1/imports", body: "--x\r\n",
                                                headers: ["Content-Type": "multipart/form-data; boundary=x"])
            #expect(form.status == 415)
            #expect((try await parley.request(.GET, "/api/v1/conversations").json["data"] as? [Any])?.isEmpty == true)
        }
    }
}
