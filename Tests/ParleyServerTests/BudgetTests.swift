import Foundation
import ParleyServer
import ParleyTestSupport
import Testing

/// Token budgets per user and per key, and the usage roll-up, through the real HTTP server: reserved before a
/// call, settled after it, never overspent, kept across a restart and shared by replicas on Redis.
@Suite struct BudgetTests {
    /// A small `/v1` call: about 30 tokens reserved beyond the prompt, about 25 really used.
    static let call = OpenAIGatewayTests.chat("budget mock:tokens=20", extra: #","max_tokens":30"#)

    /// Calls until refused (at most `limit` times); the statuses.
    static func spend(_ parley: some ParleyAPI, headers: [String: String], limit: Int = 60) async throws -> [APIReply] {
        var replies: [APIReply] = []
        while replies.count < limit {
            let reply = try await parley.request(.POST, "/v1/chat/completions", body: call, headers: headers)
            replies.append(reply)
            if reply.status != 200 { break }
        }
        return replies
    }

    static func usage(_ parley: some ParleyAPI, _ headers: [String: String], path: String = "/api/v1/account/usage") async throws
        -> [String: any Sendable]
    {
        let reply = try await parley.request(.GET, path, headers: headers)
        try #require(reply.status == 200, "\(reply.body)")
        return reply.json
    }

    @Test func aUsersBudgetStopsTheirCallsUntilItRenewsAndUsageIsRecorded() async throws {
        try await TestParley.with { parley in
            let admin = try await parley.signIn(email: TestUsers.adminEmail)
            let bob = try await parley.createUser("bob@example.com", by: admin)
            let key = ["Authorization": "Bearer " + (try await parley.newKey(bob))]
            let set = try await parley.request(.PATCH, "/api/v1/admin/users/\(bob.userID)", body: #"{"token_budget":300}"#,
                                               headers: admin.headers)
            #expect(set.status == 200 && set.json["token_budget"] as? Int == 300, "\(set.body)")

            let replies = try await Self.spend(parley, headers: key)
            let refused = try #require(replies.last)
            #expect(refused.status == 429 && refused.json.error("code") == "budget_exceeded", "\(refused.body)")
            #expect(refused.json.error("message")?.contains("renews at") == true)
            let retryAfter = try #require(refused.headers["retry-after"].flatMap(Int.init))
            #expect((1...86_400).contains(retryAfter), "until the next UTC midnight")
            let served = replies.count - 1
            #expect(served >= 5, "the budget pays for several small calls: \(served)")

            let report = try await Self.usage(parley, bob.headers)
            let spent = try #require(report["spent"] as? Int)
            #expect(report["budget"] as? Int == 300 && report["period"] as? String == "day")
            #expect(spent <= 300, "never past the budget: \(spent)")
            #expect(spent > 300 - 80, "refused only when the next call's reservation no longer fits: \(spent)")
            let rows = try #require(report["data"] as? [[String: any Sendable]])
            #expect(rows.count == 1 && rows.first?["model"] as? String == "mock-1" && rows.first?["requests"] as? Int == served)
            #expect(rows.first?["key_id"] as? String != nil, "the key the calls came with")
            #expect(rows.first.map { ($0["prompt_tokens"] as? Int ?? 0) + ($0["completion_tokens"] as? Int ?? 0) } == spent)

            // The budget is the user's, on the chat API too.
            let chat = try await parley.request(.POST, "/api/v1/conversations", body: "{}", headers: bob.headers)
            let turn = try await parley.request(.POST, "/api/v1/conversations/\(chat.json["id"] as? String ?? "")/messages",
                                                body: #"{"content":"hello"}"#, headers: bob.headers)
            #expect(turn.status == 429 && turn.json.error("code") == "budget_exceeded", "\(turn.body)")

            // Administrators see it; bob cannot see theirs.
            let totals = try await Self.usage(parley, admin.headers, path: "/api/v1/admin/usage")
            let bobsTotal = (totals["data"] as? [[String: any Sendable]])?.first { $0["user_id"] as? String == bob.userID }
            #expect(bobsTotal?["requests"] as? Int == served)
            let detail = try await Self.usage(parley, admin.headers, path: "/api/v1/admin/users/\(bob.userID)/usage")
            #expect(detail["spent"] as? Int == spent)
            #expect(try await parley.request(.GET, "/api/v1/admin/usage", headers: bob.headers).status == 403)

            // Back to the server's default (none): bob's next call goes through at once.
            let cleared = try await parley.request(.PATCH, "/api/v1/admin/users/\(bob.userID)", body: #"{"token_budget":null}"#,
                                                   headers: admin.headers)
            #expect(cleared.status == 200 && cleared.json["token_budget"] is NSNull)
            #expect(try await parley.request(.POST, "/v1/chat/completions", body: Self.call, headers: key).status == 200)
            let audit = try await parley.request(.GET, "/api/v1/admin/audit?user=\(bob.userID)", headers: admin.headers)
            #expect(audit.body.contains("budget_changed"))
        }
    }

    @Test func aKeysBudgetLimitsThatKeyOnly() async throws {
        try await TestParley.with { parley in
            let admin = try await parley.signIn(email: TestUsers.adminEmail)
            let bob = try await parley.createUser("bob@example.com", by: admin)
            let made = try await parley.request(.POST, "/api/v1/account/keys", body: #"{"name":"ci","token_budget":120}"#,
                                                headers: bob.headers)
            #expect(made.status == 201 && made.json["token_budget"] as? Int == 120, "\(made.body)")
            let limited = ["Authorization": "Bearer " + (try #require(made.json["key"] as? String))]
            let free = ["Authorization": "Bearer " + (try await parley.newKey(bob))]
            let replies = try await Self.spend(parley, headers: limited)
            #expect(replies.last?.status == 429 && replies.last?.json.error("message")?.contains("API key's") == true)
            #expect(try await parley.request(.POST, "/v1/chat/completions", body: Self.call, headers: free).status == 200,
                    "the user's other key goes on")
            let keys = try await parley.request(.GET, "/api/v1/account/keys", headers: bob.headers)
            let listed = (keys.json["data"] as? [[String: any Sendable]])?.first { $0["name"] as? String == "ci" }
            #expect(listed?["token_budget"] as? Int == 120)
        }
    }

    @Test func badBudgetsAndUsageQueriesAreClearErrors() async throws {
        try await TestParley.with { parley in
            let admin = try await parley.signIn(email: TestUsers.adminEmail)
            let bob = try await parley.createUser("bob@example.com", by: admin)
            for body in [#"{"token_budget":-1}"#, #"{"token_budget":"lots"}"#, #"{"token_budget":10000000000000}"#, #"{"token_budget":1.5}"#] {
                let reply = try await parley.request(.PATCH, "/api/v1/admin/users/\(bob.userID)", body: body, headers: admin.headers)
                #expect(reply.status == 400 && reply.json["error"] != nil, "\(body): \(reply.status) \(reply.body)")
            }
            let key = try await parley.request(.POST, "/api/v1/account/keys", body: #"{"name":"x","token_budget":-5}"#, headers: bob.headers)
            #expect(key.status == 400 && key.json.error("message")?.contains("token_budget") == true, "\(key.body)")
            for query in ["days=0", "days=abc", "days=401"] {
                #expect(try await parley.request(.GET, "/api/v1/account/usage?\(query)", headers: bob.headers).status == 400, "\(query)")
                #expect(try await parley.request(.GET, "/api/v1/admin/usage?\(query)", headers: admin.headers).status == 400, "\(query)")
            }
            let unknown = UUID().uuidString.lowercased()
            #expect(try await parley.request(.GET, "/api/v1/admin/users/\(unknown)/usage", headers: admin.headers).status == 404)
            #expect(try await parley.request(.GET, "/api/v1/admin/users/nope/usage", headers: admin.headers).status == 404,
                    "not an id: no such user")
            let fresh = try await Self.usage(parley, bob.headers)
            #expect(fresh["spent"] as? Int == 0 && fresh["budget"] is NSNull
                    && (fresh["data"] as? [Any])?.isEmpty == true, "\(fresh)")
        }
    }

    /// What was spent is in the database: a restarted server (its usage written at shutdown) keeps refusing.
    @Test func aRestartDoesNotResetWhatWasSpent() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-budget-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configure: (inout ParleyConfig) -> Void = {
            $0.databaseURL = "sqlite://\(directory)/shared.db"
            $0.defaultTokenBudget = 200
        }
        let first = try await TestParley.start(configure: configure)
        let admin = try await first.signIn(email: TestUsers.adminEmail)
        let bob = try await first.createUser("bob@example.com", by: admin)
        let key = ["Authorization": "Bearer " + (try await first.newKey(bob))]
        let replies = try await Self.spend(first, headers: key)
        await first.stop()
        #expect(replies.last?.status == 429)

        let second = try await TestParley.start(configure: configure)
        let again = try await second.request(.POST, "/v1/chat/completions", body: Self.call, headers: key)
        let report = try await Self.usage(second, ["Authorization": key["Authorization"]!])
        await second.stop()
        #expect(again.status == 429 && again.json.error("code") == "budget_exceeded", "\(again.status) \(again.body)")
        #expect(report["spent"] as? Int ?? 0 > 0 && report["budget"] as? Int == 200, "\(report)")
    }

    /// Two servers on one database and one Redis: one budget, never overspent by calls racing through both.
    @Test(.enabled(if: RedisTestServer.enabled, "redis-server not found; set PARLEY_REQUIRE_SERVICES=1 to make this a failure"))
    func replicasSharingRedisKeepOneBudget() async throws {
        let redis = try await RedisTestServer.start()
        defer { redis.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-budget-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configure: (inout ParleyConfig) -> Void = {
            $0.databaseURL = "sqlite://\(directory)/shared.db"
            $0.redisURL = redis.url
            $0.defaultTokenBudget = 500
        }
        let first = try await TestParley.start(configure: configure)
        let second = try await TestParley.start(configure: configure)
        let admin = try await first.signIn(email: TestUsers.adminEmail)
        let bob = try await first.createUser("bob@example.com", by: admin)
        let key = ["Authorization": "Bearer " + (try await first.newKey(bob))]
        // Both replicas spend at once, each until refused: alone, either could spend the whole budget.
        let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
            for parley in [first, second] {
                group.addTask { try await Self.spend(parley, headers: key).map(\.status) }
            }
            return try await group.reduce(into: [Int]()) { $0 += $1 }
        }
        let fromFirst = try await Self.usage(first, key)
        let fromSecond = try await Self.usage(second, key)
        await first.stop()
        await second.stop()
        #expect(statuses.contains(429) && statuses.contains(200), "\(statuses)")
        #expect(Set(statuses).isSubset(of: [200, 429]), "\(statuses)")
        let spent = max(fromFirst["spent"] as? Int ?? 0, fromSecond["spent"] as? Int ?? 0)
        #expect(spent <= 500 && spent > 0, "one budget over both replicas: \(spent) spent")
    }
}
