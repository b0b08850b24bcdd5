import Foundation
import ParleyServer
import Testing

/// Pinning, archiving and tagging conversations through the real server: each list shows what it should, an
/// archived conversation is still found by search and comes back when restored, and bad input is a 400.
@Suite struct ConversationOrganisationTests {
    @Test func pinnedArchivedAndTaggedConversationsAreListedApart() async throws {
        try await TestParley.with { parley in
            let plain = try await parley.createConversation(#"{"title":"Groceries"}"#)
            let pinned = try await parley.createConversation(#"{"title":"Quarterly plan"}"#)
            let archived = try await parley.createConversation(#"{"title":"Okapi facts"}"#)
            let marked = try await parley.request(.PATCH, "/api/v1/conversations/\(pinned)",
                                                  body: #"{"pinned":true,"tags":[" Work ","trips","work"]}"#)
            #expect(marked.status == 200 && marked.json["pinned"] as? Bool == true, "\(marked.body)")
            #expect(marked.json["tags"] as? [String] == ["work", "trips"], "trimmed, lowercased, once each")
            let put = try await parley.request(.PATCH, "/api/v1/conversations/\(archived)", body: #"{"archived":true}"#)
            #expect(put.json["archived"] as? Bool == true && put.json["archived_at"] is String, "\(put.body)")

            func ids(_ query: String) async throws -> [String] {
                let reply = try await parley.request(.GET, "/api/v1/conversations\(query)")
                #expect(reply.status == 200, "\(query): \(reply.body)")
                return (reply.json["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            }
            #expect(try await ids("") == [pinned, plain])
            #expect(try await ids("?pinned=true") == [pinned])
            #expect(try await ids("?pinned=false") == [plain])
            #expect(try await ids("?archived=true") == [archived])
            #expect(try await ids("?tag=WORK") == [pinned])
            let found = try await parley.request(.GET, "/api/v1/search?q=okapi")
            #expect(found.body.contains(archived), "an archived conversation is still found: \(found.body.prefix(300))")

            let restored = try await parley.request(.PATCH, "/api/v1/conversations/\(archived)", body: #"{"archived":false}"#)
            #expect(restored.json["archived"] as? Bool == false && restored.json["archived_at"] == nil)
            #expect(try await ids("").contains(archived))
            let tagged = try await parley.request(.POST, "/api/v1/conversations", body: #"{"title":"Chores","tags":["Home"]}"#)
            #expect(tagged.status == 201 && tagged.json["tags"] as? [String] == ["home"], "\(tagged.body)")
            #expect(try await ids("?tag=home") == [try #require(tagged.json["id"] as? String)])

            let cases: [(String, APIReply)] = [
                ("eleven tags", try await parley.request(.PATCH, "/api/v1/conversations/\(plain)",
                                                         body: #"{"tags":[\#((1...11).map { "\"t\($0)\"" }.joined(separator: ","))]}"#)),
                ("a comma", try await parley.request(.PATCH, "/api/v1/conversations/\(plain)", body: #"{"tags":["a,b"]}"#)),
                ("an empty tag", try await parley.request(.PATCH, "/api/v1/conversations/\(plain)", body: #"{"tags":["  "]}"#)),
                ("a long tag", try await parley.request(.PATCH, "/api/v1/conversations/\(plain)",
                                                        body: #"{"tags":["\#(String(repeating: "t", count: 33))"]}"#)),
                ("pinned not a boolean", try await parley.request(.PATCH, "/api/v1/conversations/\(plain)", body: #"{"pinned":"yes"}"#)),
                ("a bad pinned filter", try await parley.request(.GET, "/api/v1/conversations?pinned=maybe")),
                ("an empty tag filter", try await parley.request(.GET, "/api/v1/conversations?tag=")),
            ]
            for (name, reply) in cases {
                #expect(reply.status == 400 && reply.errorMessage?.isEmpty == false, "\(name): \(reply.status) \(reply.body)")
            }
        }
    }
}
