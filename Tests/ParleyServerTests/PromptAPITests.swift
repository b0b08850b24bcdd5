import Foundation
import ParleyServer
import Testing

/// Saved prompts through the real server: created, listed by command with their variables, changed, deleted
/// by their owner only; commands unique per user; bad input a clear 400 (or 409).
@Suite struct PromptAPITests {
    @Test func promptsAreSavedListedChangedAndDeleted() async throws {
        try await TestParley.with { parley in
            let created = try await parley.request(.POST, "/api/v1/prompts", body: """
                {"command":"/Summarize","title":"Summarize a text","content":"Summarize {{text}} in {{ length }} sentences for {{text}}."}
                """)
            #expect(created.status == 201, "\(created.body)")
            #expect(created.json["command"] as? String == "summarize" && created.json["variables"] as? [String] == ["text", "length"])
            let id = try #require(created.json["id"] as? String)
            _ = try await parley.request(.POST, "/api/v1/prompts", body: #"{"command":"apology","content":"Write an apology."}"#)
            let list = try await parley.request(.GET, "/api/v1/prompts")
            #expect((list.json["data"] as? [[String: Any]])?.map { $0["command"] as? String } == ["apology", "summarize"])
            let duplicate = try await parley.request(.POST, "/api/v1/prompts", body: #"{"command":"apology","content":"x"}"#)
            #expect(duplicate.status == 409 && duplicate.errorMessage?.contains("/apology") == true, "\(duplicate.body)")
            let renamedOnto = try await parley.request(.PATCH, "/api/v1/prompts/\(id)", body: #"{"command":"apology"}"#)
            #expect(renamedOnto.status == 409, "\(renamedOnto.body)")
            let changed = try await parley.request(.PATCH, "/api/v1/prompts/\(id)", body: #"{"content":"Shorten {{text}}."}"#)
            #expect(changed.status == 200 && changed.json["variables"] as? [String] == ["text"] && changed.json["command"] as? String == "summarize")

            let admin = try await parley.signIn(email: TestUsers.adminEmail)
            let bob = try await parley.createUser("bob@example.com", by: admin)
            #expect((try await parley.request(.GET, "/api/v1/prompts", headers: bob.headers).json["data"] as? [Any])?.isEmpty == true)
            let cases: [(String, APIReply, Int)] = [
                ("no command", try await parley.request(.POST, "/api/v1/prompts", body: #"{"content":"x"}"#), 400),
                ("no content", try await parley.request(.POST, "/api/v1/prompts", body: #"{"command":"x"}"#), 400),
                ("a space in the command", try await parley.request(.POST, "/api/v1/prompts", body: #"{"command":"a b","content":"x"}"#), 400),
                ("a long command", try await parley.request(.POST, "/api/v1/prompts",
                                                            body: #"{"command":"\#(String(repeating: "c", count: 33))","content":"x"}"#), 400),
                ("blank content", try await parley.request(.POST, "/api/v1/prompts", body: #"{"command":"x","content":"  "}"#), 400),
                ("two-line title", try await parley.request(.POST, "/api/v1/prompts", body: #"{"command":"x","title":"a\nb","content":"x"}"#), 400),
                ("NUL", try await parley.request(.POST, "/api/v1/prompts", body: #"{"command":"x","content":"a\u0000"}"#), 400),
                ("not JSON", try await parley.request(.POST, "/api/v1/prompts", body: "{"), 400),
                ("bob changes it", try await parley.request(.PATCH, "/api/v1/prompts/\(id)", body: #"{"title":"his"}"#, headers: bob.headers), 404),
                ("bob deletes it", try await parley.request(.DELETE, "/api/v1/prompts/\(id)", headers: bob.headers), 404),
                ("not an id", try await parley.request(.DELETE, "/api/v1/prompts/nope"), 404),
            ]
            for (name, reply, status) in cases {
                #expect(reply.status == status && reply.errorMessage?.isEmpty == false, "\(name): \(reply.status) \(reply.body)")
            }
            #expect(try await parley.request(.DELETE, "/api/v1/prompts/\(id)").status == 204)
            #expect((try await parley.request(.GET, "/api/v1/prompts").json["data"] as? [Any])?.count == 1)
        }
    }
}
