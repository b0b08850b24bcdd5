import Foundation
import ParleyMockLLM
import ParleyTestSupport
import Testing

/// The web UI's files over HTTP: the page at `/` and `/c/{id}`, versioned assets, gzip, ETags, and the
/// security headers that keep model output from running as script.
@Suite struct WebRoutesTests {
    static func assetPaths(in page: String) -> [String] {
        page.components(separatedBy: "\"").filter { $0.hasPrefix("/assets/") }
    }

    @Test func thePageIsServedAtTheRootAndAtConversationURLsWithAStrictPolicy() async throws {
        try await TestParley.with(withUpstream: false) { parley in
            let root = try await parley.request(.GET, "/")
            #expect(root.status == 200 && root.headers["content-type"] == "text/html; charset=utf-8")
            let policy = try #require(root.headers["content-security-policy"])
            #expect(policy.contains("script-src 'self'") && policy.contains("object-src 'none'"))
            #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"))
            #expect(root.headers["x-content-type-options"] == "nosniff")
            #expect(root.headers["cache-control"] == "no-cache")
            #expect(!root.body.contains("<script>") && root.body.contains("<script type=\"module\" src=\"/assets/"),
                    "no inline script")
            #expect(!root.body.contains("{{version}}"))
            let conversation = try await parley.request(.GET, "/c/01a1ff49-b25e-7b99-94de-0d2bac8a9592")
            #expect(conversation.status == 200 && conversation.body == root.body, "client routes get the same page")
        }
    }

    @Test func assetsAreVersionedCompressedAndRevalidated() async throws {
        try await TestParley.with(withUpstream: false) { parley in
            let page = try await parley.request(.GET, "/").body
            let paths = Self.assetPaths(in: page)
            #expect(paths.contains { $0.hasSuffix("/app.js") } && paths.contains { $0.hasSuffix("/app.css") })
            for path in paths {
                let plain = try await parley.request(.GET, path)
                #expect(plain.status == 200, "\(path)")
                #expect(plain.headers["cache-control"] == "public, max-age=31536000, immutable", "\(path)")
                #expect(plain.headers["content-encoding"] == nil)
                let gzipped = try await parley.request(.GET, path, headers: ["Accept-Encoding": "gzip, deflate"])
                if path.hasSuffix(".js") || path.hasSuffix(".css") {
                    #expect(gzipped.headers["content-encoding"] == "gzip", "\(path)")
                    #expect(Int(gzipped.headers["content-length"] ?? "") ?? .max < plain.body.utf8.count, "\(path)")
                }
                let etag = try #require(plain.headers["etag"])
                let again = try await parley.request(.GET, path, headers: ["If-None-Match": etag])
                #expect(again.status == 304 && again.body.isEmpty, "\(path)")
            }
            let script = try #require(paths.first { $0.hasSuffix("/app.js") })
            let js = try await parley.request(.GET, script)
            #expect(js.headers["content-type"] == "text/javascript; charset=utf-8")
            // A page from an older release still gets the files, but they are not kept forever.
            let stale = try await parley.request(.GET, "/assets/000000000000/app.js")
            #expect(stale.status == 200 && stale.headers["cache-control"] == "no-cache" && stale.body == js.body)
            let refused = try await parley.request(.GET, script, headers: ["Accept-Encoding": "gzip;q=0"])
            #expect(refused.headers["content-encoding"] == nil)
        }
    }

    @Test func webDirServesAFolderInsteadOfTheBuiltInCopy() async throws {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/ParleyServer/Web").standardized.path
        let builtIn = try await TestParley.start(withUpstream: false)
        let embeddedPage = try await builtIn.request(.GET, "/").body
        await builtIn.stop()
        try await TestParley.with(withUpstream: false, configure: { $0.webDirectory = source }) { parley in
            let page = try await parley.request(.GET, "/")
            #expect(page.status == 200 && page.body == embeddedPage, "the same files give the same page and version")
        }
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-web-\(UUID().uuidString)").path
        await #expect(throws: (any Error).self, "a folder without the UI's files is refused at start-up") {
            try await TestParley.with(withUpstream: false, configure: { $0.webDirectory = missing }) { _ in }
        }
    }

    @Test func postingWithReplacesPutsANewVersionInPlaceOfTheMessageAndWhatFollowed() async throws {
        try await TestParley.with { parley in
            let conversation = try await parley.createConversation()
            var turns: [(user: String, assistant: String)] = []
            for text in ["first", "second", "third"] {
                let events = try await parley.chat(conversation, "\(text) mock:tokens=3")
                turns.append((try #require(events.first?.data["id"] as? String), try #require(events.last?.data["id"] as? String)))
            }
            let feedback = try await parley.request(.PUT, "/api/v1/messages/\(turns[1].assistant)/feedback", body: #"{"rating":1}"#)
            #expect(feedback.status == 200)
            // Edit the second question: a new version takes its place and that of everything after it.
            let reader = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                                 body: "{\"content\":\"second, edited mock:tokens=4\",\"replaces\":\"\(turns[1].user)\"}")
            #expect(reader.status == 200)
            let events = try await reader.rest()
            #expect(events.last?.name == "done")
            let page = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages")
            let messages = try #require(page.json["data"] as? [[String: any Sendable]])
            #expect(messages.count == 4 && messages[0]["id"] as? String == turns[0].user)
            #expect(messages[2]["content"] as? String == "second, edited mock:tokens=4")
            #expect(messages.compactMap { $0["index"] as? Int } == [1, 2, 7, 8], "indexes are not reused")
            for kept in [turns[1].user, turns[1].assistant, turns[2].user, turns[2].assistant] {
                let message = try await parley.request(.GET, "/api/v1/messages/\(kept)")
                #expect(message.status == 200 && message.json["active"] as? Bool == false, "kept off the branch: \(message.body)")
            }
            let stored = try await parley.request(.GET, "/api/v1/conversations/\(conversation)")
            #expect(stored.json["message_count"] as? Int == 4)
            // Regenerate: the last question replaces itself.
            let lastUser = try #require(messages[2]["id"] as? String)
            let again = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages",
                                                body: "{\"content\":\"second, edited mock:tokens=4\",\"replaces\":\"\(lastUser)\"}")
            _ = try await again.rest()
            let after = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages")
            #expect((after.json["data"] as? [Any])?.count == 4)
        }
    }

    @Test func replacingAMessageOfAnotherConversationOrWhileRefusedChangesNothing() async throws {
        try await TestParley.with(configure: { $0.rateLimits.requestsPerMinute = 1 }) { parley in
            let one = try await parley.createConversation()
            let other = try await parley.createConversation()
            let events = try await parley.chat(one, "keep me mock:tokens=2")
            let user = try #require(events.first?.data["id"] as? String)
            let foreign = try await parley.request(.POST, "/api/v1/conversations/\(other)/messages",
                                                   body: "{\"content\":\"x\",\"replaces\":\"\(user)\"}")
            #expect(foreign.status == 400 && foreign.errorMessage?.contains("another conversation") == true)
            // The limit is spent: a refused replacement must not change the branch.
            let refused = try await parley.request(.POST, "/api/v1/conversations/\(one)/messages",
                                                   body: "{\"content\":\"x\",\"replaces\":\"\(user)\"}")
            #expect(refused.status == 429)
            #expect(try await parley.request(.GET, "/api/v1/messages/\(user)").status == 200)
        }
    }
}
