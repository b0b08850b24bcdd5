import Foundation
import ParleyMockLLM
import Testing

/// Branches through the real server: edits and regenerations keep every version, the newest page and the context
/// of the next turn follow the active branch, switching brings a version back, and the whole tree can be read.
@Suite struct BranchAPITests {
    /// Posts `content` as a new version of the user message `replaces`; returns the new user message's id.
    static func replace(_ parley: TestParley, _ conversation: String, _ replaces: String, _ content: String) async throws -> String {
        let reader = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                             body: "{\"content\":\(quoted(content)),\"replaces\":\"\(replaces)\"}")
        try #require(reader.status == 200)
        let events = try await reader.rest()
        #expect(events.last?.name == "done")
        return try #require(events.first?.data["id"] as? String)
    }

    static func page(_ parley: TestParley, _ conversation: String, _ query: String = "") async throws -> [[String: Any]] {
        let reply = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages\(query)")
        try #require(reply.status == 200, "\(reply.body)")
        return reply.json["data"] as? [[String: Any]] ?? []
    }

    /// A tree as text, whatever its ids and order: each message's parent's text, its own, and whether it is active.
    static func shape(_ tree: [[String: Any]]) -> [String] {
        let text = Dictionary(tree.compactMap { m in (m["id"] as? String).map { ($0, m["content"] as? String ?? "") } },
                              uniquingKeysWith: { first, _ in first })
        return tree.map { m in
            "\((m["parent_id"] as? String).flatMap { text[$0] } ?? "-") → \(m["content"] as? String ?? "") \(m["active"] as? Bool ?? false)"
        }.sorted()
    }

    @Test func editsAndRegenerationsMakeVersionsThatCanBeSwitchedTo() async throws {
        try await TestParley.with { parley in
            let conversation = try await parley.createConversation()
            let first = try await parley.chat(conversation, "kea mock:tokens=2")
            let original = try #require(try await parley.chat(conversation, "takahe mock:tokens=2").first?.data["id"] as? String)
            // Edit twice, then regenerate three times (the same question again).
            let edited = try await Self.replace(parley, conversation, original, "kakapo mock:tokens=2")
            var latest = try await Self.replace(parley, conversation, edited, "weka mock:tokens=2")
            var versions = [original, edited, latest]
            for _ in 0..<3 {
                latest = try await Self.replace(parley, conversation, latest, "weka mock:tokens=2")
                versions.append(latest)
            }
            var messages = try await Self.page(parley, conversation)
            #expect(messages.count == 4 && messages[2]["id"] as? String == latest)
            #expect(messages[2]["siblings"] as? [String] == versions, "six versions, oldest first: \(messages[2])")
            #expect(messages[0]["siblings"] == nil && messages[3]["siblings"] == nil)
            #expect(try await parley.request(.GET, "/api/v1/conversations/\(conversation)").json["message_count"] as? Int == 4)

            // Back to the first edit: its answer comes with it, and the next turn's context is that branch alone.
            let switched = try await parley.request(.POST, "/api/v1/conversations/\(conversation)/branch",
                                                    body: "{\"message_id\":\"\(edited)\"}")
            #expect(switched.status == 200, "\(switched.body)")
            let shown = (switched.json["data"] as? [[String: Any]] ?? []).compactMap { $0["content"] as? String }
            #expect(shown.count == 4 && shown[2] == "kakapo mock:tokens=2", "\(shown)")
            messages = try await Self.page(parley, conversation)
            #expect(messages.compactMap { $0["content"] as? String } == shown, "the page follows the branch")
            let next = try await parley.chat(conversation, "kiwi mock:echo=context")
            let context = next.deltaText
            #expect(context.contains("kea") && context.contains("kakapo") && !context.contains("weka")
                    && !context.contains("takahe"), "\(context.prefix(400))")
            // Paging back walks the active branch.
            let older = try await Self.page(parley, conversation, "?limit=2&before=\(messages[2]["index"] as? Int ?? 0)")
            #expect(older.compactMap { $0["content"] as? String } == ["kea mock:tokens=2", first.deltaText])

            // The whole tree, oldest first, with the active branch marked.
            let tree = try await Self.page(parley, conversation, "?branches=all&limit=100")
            #expect(tree.count == 16, "2 + 6 versions × 2 + 2: \(tree.count)")
            #expect(tree.filter { $0["active"] as? Bool == true }.count == 6)
            let firstPage = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages?branches=all&limit=10")
            #expect(firstPage.json["has_more"] as? Bool == true && firstPage.json["next_after"] as? Int != nil)

            // The JSON export (as the ⚙ dialog writes it) imports back as the same tree with the same branch shown.
            let stored = try await parley.request(.GET, "/api/v1/conversations/\(conversation)")
            let document: [String: Any] = ["conversation": stored.json, "messages": tree, "exported_at": "2026-12-06T00:00:00Z"]
            let exported = String(decoding: try JSONSerialization.data(withJSONObject: document), as: UTF8.self)
            let imported = try await parley.request(.POST, "/api/v1/imports", body: exported)
            #expect(imported.status == 201 && imported.json["formats"] as? [String] == ["parley"], "\(imported.body.prefix(300))")
            let list = try await parley.request(.GET, "/api/v1/conversations?limit=50")
            let copies = (list.json["data"] as? [[String: Any]] ?? []).filter { ($0["id"] as? String) != conversation
                && ($0["title"] as? String) == stored.json["title"] as? String }
            let copy = try #require(copies.first?["id"] as? String, "\(list.body.prefix(400))")
            let copiedTree = try await Self.page(parley, copy, "?branches=all&limit=100")
            #expect(Self.shape(copiedTree) == Self.shape(tree), "every message under the same parent, on or off the branch")
            #expect(try await Self.page(parley, copy).compactMap { $0["content"] as? String }
                    == messages.compactMap { $0["content"] as? String } + [next.first?.data["content"] as? String ?? "", next.deltaText])

            // A version off the branch cannot be replaced; bad requests are clear.
            let offBranch = try await parley.request(.POST, "/api/v1/conversations/\(conversation)/messages",
                                                     body: "{\"content\":\"x\",\"replaces\":\"\(latest)\"}")
            #expect(offBranch.status == 409 && offBranch.errorMessage?.contains("active branch") == true, "\(offBranch.body)")
            let other = try await parley.createConversation()
            for (body, status) in [("{\"message_id\":\"\(edited)\"}", 404), ("{}", 400), ("{\"message_id\":\"nope\"}", 400),
                                   ("{\"message_id\":\"\(UUID().uuidString)\"}", 404)] {
                let target = body.contains(edited) ? other : conversation
                let reply = try await parley.request(.POST, "/api/v1/conversations/\(target)/branch", body: body)
                #expect(reply.status == status && reply.errorMessage != nil, "\(body): \(reply.status) \(reply.body)")
            }
            let badQuery = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages?branches=some")
            #expect(badQuery.status == 400)
            let backwards = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages?branches=all&before=5")
            #expect(backwards.status == 400)
        }
    }
}
