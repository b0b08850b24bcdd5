import Foundation
import ParleyAccounts
import ParleyCore
@testable import ParleyStore
import Testing

/// The behaviour every ``AccountStore`` backend must show, run on SQLite and PostgreSQL.
enum AccountStoreContract {
    typealias Store = any ConversationStore & AccountStore

    static let checks: [(String, @Sendable (Store) async throws -> Void)] = [
        ("the first user takes the local data, once", firstUserTakesLocalDataOnce),
        ("emails are unique", emailsAreUnique),
        ("users update, search and delete with their data", usersUpdateSearchAndDeleteWithTheirData),
        ("sessions are found by digest and scoped to their user", sessionsAreScopedToTheirUser),
        ("expired and idle sessions are swept", expiredAndIdleSessionsAreSwept),
        ("keys are found by digest and scoped to their user", keysAreScopedToTheirUser),
        ("security events page newest first and expire", auditEventsPageAndExpire),
        ("usage adds up per user, day, key and model, and budgets persist", usageAddsUpAndBudgetsPersist),
        ("a second-factor code and a recovery code are taken once", secondFactorCodesAreTakenOnce),
    ]

    static func user(_ email: String, role: AccountRole = .user) -> User {
        .new(email: email, name: email.uppercased(), role: role, passwordHash: "$scrypt$x")
    }

    static func firstUserTakesLocalDataOnce(_ store: Store) async throws {
        let old = try await store.createConversation(NewConversation(title: "before accounts"), owner: .local)
        let turn = try await store.appendTurn(conversationID: old.id, owner: .local, userContent: "hi", model: "m")
        _ = try await store.finishMessage(id: turn.assistant.id, MessageCompletion(content: "hello", status: .complete))
        _ = try await store.setFeedback(messageID: turn.assistant.id, owner: .local, rating: 1, comment: nil)
        #expect(try await store.userCount() == 0)

        let admin = user("admin@example.com", role: .admin)
        try await store.createUser(admin, asFirstUser: true)
        #expect(try await store.userCount() == 1)
        #expect(try await store.conversation(id: old.id, owner: admin.id).title == "before accounts")
        #expect(try await store.message(id: turn.assistant.id, owner: admin.id).feedback?.rating == 1)
        await #expect(throws: ParleyError.self) { try await store.conversation(id: old.id, owner: .local) }

        await #expect(throws: AccountError.alreadySetUp) {
            try await store.createUser(user("second@example.com", role: .admin), asFirstUser: true)
        }
        #expect(try await store.userCount() == 1)
    }

    static func emailsAreUnique(_ store: Store) async throws {
        try await store.createUser(user("a@example.com"), asFirstUser: false)
        await #expect(throws: AccountError.emailTaken) { try await store.createUser(user("a@example.com"), asFirstUser: false) }
        #expect(try await store.user(email: "a@example.com")?.name == "A@EXAMPLE.COM")
        #expect(try await store.user(email: "b@example.com") == nil)
    }

    static func usersUpdateSearchAndDeleteWithTheirData(_ store: Store) async throws {
        var alice = user("alice@example.com")
        let bob = user("bob@example.org")
        try await store.createUser(alice, asFirstUser: false)
        try await store.createUser(bob, asFirstUser: false)
        alice.role = .disabled
        alice.name = "Alice"
        #expect(try await store.updateUser(alice))
        let read = try #require(try await store.user(id: alice.id))
        #expect(read.role == .disabled && read.name == "Alice")
        #expect(try await store.updateUser(user("ghost@example.com")) == false)

        #expect(try await store.users(search: "example.org", limit: 10, offset: 0).map(\.id) == [bob.id])
        #expect(try await store.users(search: nil, limit: 10, offset: 0).map(\.id) == [alice.id, bob.id])
        #expect(try await store.users(search: "%", limit: 10, offset: 0).isEmpty, "LIKE wildcards are escaped")
        #expect(try await store.users(search: nil, limit: 1, offset: 1).map(\.id) == [bob.id])

        let conversation = try await store.createConversation(NewConversation(title: "alice's"), owner: alice.id)
        let kept = try await store.createConversation(NewConversation(title: "bob's"), owner: bob.id)
        try await store.createSession(session(for: alice.id))
        #expect(try await store.deleteUser(id: alice.id))
        #expect(try await store.user(id: alice.id) == nil)
        #expect(try await store.sessions(userID: alice.id).isEmpty)
        await #expect(throws: ParleyError.self) { try await store.conversation(id: conversation.id, owner: alice.id) }
        #expect(try await store.conversation(id: kept.id, owner: bob.id).title == "bob's")
        #expect(try await store.deleteUser(id: alice.id) == false)
    }

    static func session(for userID: UserID, token: String = Credentials.newToken(), created: Date = Date(),
                        lastSeen: Date? = nil, lifetime: TimeInterval = 3600) -> SessionRecord {
        SessionRecord(id: .v7(), userID: userID, tokenHash: Credentials.digest(token), csrfToken: Credentials.newToken(),
                      createdAt: Date(millis: created.millis), lastSeenAt: Date(millis: (lastSeen ?? created).millis),
                      expiresAt: Date(millis: created.addingTimeInterval(lifetime).millis), userAgent: "test", address: "127.0.0.1")
    }

    static func sessionsAreScopedToTheirUser(_ store: Store) async throws {
        let alice = user("alice@example.com")
        let bob = user("bob@example.com")
        try await store.createUser(alice, asFirstUser: false)
        try await store.createUser(bob, asFirstUser: false)
        let token = Credentials.newToken()
        let first = session(for: alice.id, token: token)
        let second = session(for: alice.id)
        try await store.createSession(first)
        try await store.createSession(second)

        let (found, owner) = try #require(try await store.session(tokenHash: Credentials.digest(token)))
        #expect(found == first && owner.id == alice.id)
        #expect(try await store.session(tokenHash: Credentials.digest(Credentials.newToken())) == nil)

        let later = Date(millis: Date().addingTimeInterval(30).millis)
        try await store.touchSession(id: first.id, at: later)
        #expect(try await store.session(tokenHash: first.tokenHash)?.0.lastSeenAt == later)
        #expect(try await store.sessions(userID: alice.id).map(\.id) == [second.id, first.id])

        #expect(try await store.deleteSession(id: first.id, userID: bob.id) == false, "another user's session is unknown")
        #expect(try await store.sessions(userID: alice.id).count == 2)
        try await store.deleteSessions(userID: alice.id, except: second.id)
        #expect(try await store.sessions(userID: alice.id).map(\.id) == [second.id])
        try await store.deleteSessions(userID: alice.id, except: nil)
        #expect(try await store.sessions(userID: alice.id).isEmpty)
    }

    static func expiredAndIdleSessionsAreSwept(_ store: Store) async throws {
        let alice = user("alice@example.com")
        try await store.createUser(alice, asFirstUser: false)
        let now = Date()
        let live = session(for: alice.id, created: now)
        let expired = session(for: alice.id, created: now.addingTimeInterval(-7200))
        let idle = session(for: alice.id, created: now.addingTimeInterval(-600), lifetime: 86_400)
        for record in [live, expired, idle] { try await store.createSession(record) }
        #expect(try await store.deleteExpiredSessions(now: now, idleSince: now.addingTimeInterval(-300)) == 2)
        #expect(try await store.sessions(userID: alice.id).map(\.id) == [live.id])
    }

    static func keysAreScopedToTheirUser(_ store: Store) async throws {
        let alice = user("alice@example.com")
        let bob = user("bob@example.com")
        try await store.createUser(alice, asFirstUser: false)
        try await store.createUser(bob, asFirstUser: false)
        let (secret, prefix) = Credentials.newAPIKey()
        let now = Date(millis: Date().millis)
        let key = APIKeyRecord(id: .v7(), userID: alice.id, name: "laptop", prefix: prefix, keyHash: Credentials.digest(secret),
                               scopes: [.chat, .gateway], createdAt: now, expiresAt: now.addingTimeInterval(3600), lastUsedAt: nil)
        try await store.createKey(key)
        let (found, owner) = try #require(try await store.key(hash: Credentials.digest(secret)))
        #expect(found == key && owner.id == alice.id)
        #expect(found.scopes == [.chat, .gateway])
        #expect(try await store.keys(userID: bob.id).isEmpty)

        let used = Date(millis: now.addingTimeInterval(5).millis)
        try await store.touchKey(id: key.id, at: used)
        #expect(try await store.keys(userID: alice.id).first?.lastUsedAt == used)
        #expect(try await store.deleteKey(id: key.id, userID: bob.id) == false)
        #expect(try await store.deleteKey(id: key.id, userID: alice.id))
        #expect(try await store.key(hash: key.keyHash) == nil)
    }

    static func auditEventsPageAndExpire(_ store: Store) async throws {
        let alice = UserID("alice"), admin = UserID("admin")
        let start = Date(millis: Date().addingTimeInterval(-100).millis)
        var events: [AuditEvent] = []
        for index in 0..<5 {
            let kind: AuditEvent.Kind = index == 4 ? .roleChanged : .signedIn
            let user: UserID? = index == 2 ? nil : alice
            let actor: UserID? = index == 4 ? admin : nil
            events.append(AuditEvent(kind: kind, userID: user, actorID: actor, detail: "event \(index)",
                                     address: "10.0.0.\(index)", at: start.addingTimeInterval(Double(index))))
        }
        for event in events { try await store.recordAudit(event) }
        let newest = try await store.auditEvents(userID: nil, before: nil, limit: 3)
        #expect(newest == Array(events.reversed().prefix(3)))
        let older = try await store.auditEvents(userID: nil, before: newest.last?.at, limit: 10)
        #expect(older == Array(events.reversed().dropFirst(3)))
        #expect(try await store.auditEvents(userID: alice, before: nil, limit: 10).map(\.detail) == ["event 4", "event 3", "event 1", "event 0"])
        #expect(try await store.deleteAuditEvents(before: start.addingTimeInterval(2)) == 2)
        #expect(try await store.auditEvents(userID: nil, before: nil, limit: 10).count == 3)
    }

    static func usageAddsUpAndBudgetsPersist(_ store: Store) async throws {
        var alice = user("alice@example.com")
        let bob = user("bob@example.com")
        try await store.createUser(alice, asFirstUser: false)
        try await store.createUser(bob, asFirstUser: false)
        alice.tokenBudget = 50_000
        #expect(try await store.updateUser(alice))
        #expect(try await store.user(id: alice.id)?.tokenBudget == 50_000)
        let (secret, prefix) = Credentials.newAPIKey()
        let key = APIKeyRecord(id: .v7(), userID: alice.id, name: "ci", prefix: prefix, keyHash: Credentials.digest(secret),
                               scopes: [.gateway], createdAt: Date(millis: Date().millis), expiresAt: nil, lastUsedAt: nil,
                               tokenBudget: 1_000)
        try await store.createKey(key)
        let (found, owner) = try #require(try await store.key(hash: key.keyHash))
        #expect(found.tokenBudget == 1_000 && owner.tokenBudget == 50_000, "the key's budget and its owner's, apart")
        #expect(try await store.keys(userID: alice.id).first?.tokenBudget == 1_000)

        func record(_ day: String, _ who: UserID, _ keyID: UUID?, _ model: String, _ prompt: Int, _ completion: Int) -> UsageRecord {
            UsageRecord(day: day, userID: who, keyID: keyID, model: model, requests: 1, promptTokens: prompt, completionTokens: completion)
        }
        try await store.addUsage([
            record("2026-11-30", alice.id, nil, "gpt", 10, 5),
            record("2026-12-01", alice.id, nil, "gpt", 100, 50),
            record("2026-12-01", alice.id, nil, "gpt", 1, 2),       // the same row twice in one batch
            record("2026-12-01", alice.id, key.id, "gpt", 7, 3),
            record("2026-12-01", alice.id, key.id, "claude", 20, 20),
            record("2026-12-01", bob.id, nil, "gpt", 5, 5),
            record("2026-12-01", UserID("gone"), nil, "gpt", 9, 9), // no such user: dropped
        ])
        try await store.addUsage([record("2026-12-01", alice.id, nil, "gpt", 1000, 0)])
        let rows = try await store.usage(userID: alice.id, from: "2026-12-01")
        #expect(rows.count == 3 && rows.allSatisfy { $0.day == "2026-12-01" })
        let sessions = try #require(rows.first { $0.keyID == nil })
        #expect(sessions.requests == 3 && sessions.promptTokens == 1101 && sessions.completionTokens == 52)
        #expect(try await store.spentTokens(userID: alice.id, keyID: nil, from: "2026-12-01") == 1153 + 10 + 40)
        #expect(try await store.spentTokens(userID: alice.id, keyID: key.id, from: "2026-12-01") == 50)
        #expect(try await store.spentTokens(userID: alice.id, keyID: nil, from: "2026-11-01") == 1203 + 15)
        #expect(try await store.spentTokens(userID: bob.id, keyID: key.id, from: "2026-11-01") == 0, "alice's key is not bob's")
        let totals = try await store.usageByUser(from: "2026-12-01", limit: 10)
        #expect(totals.map(\.userID) == [alice.id, bob.id])
        #expect(totals.first?.totalTokens == 1203 && totals.first?.requests == 5)
        #expect(try await store.usageByUser(from: "2026-12-01", limit: 1).count == 1)

        #expect(try await store.deleteUsage(before: "2026-12-01") == 1)
        #expect(try await store.usage(userID: alice.id, from: "2000-01-01").count == 3)
        #expect(try await store.deleteUser(id: alice.id))
        #expect(try await store.usage(userID: alice.id, from: "2000-01-01").isEmpty, "a deleted user's usage goes with them")
        #expect(try await store.usageByUser(from: "2000-01-01", limit: 10).map(\.userID) == [bob.id])
    }
}

extension AccountStoreContract {
    static func secondFactorCodesAreTakenOnce(_ store: Store) async throws {
        var alice = user("alice@example.com")
        let bob = user("bob@example.com")
        alice.recoveryCodes = ["r1", "r2", "r3"]
        try await store.createUser(alice, asFirstUser: false)
        _ = try await store.updateUser(alice)
        try await store.createUser(bob, asFirstUser: false)
        #expect(try await store.claimSecondFactorStep(userID: alice.id, step: 100))
        #expect(try await store.claimSecondFactorStep(userID: alice.id, step: 100) == false, "the same code again")
        #expect(try await store.claimSecondFactorStep(userID: alice.id, step: 99) == false, "an older code")
        #expect(try await store.claimSecondFactorStep(userID: bob.id, step: 100), "bob's codes are his own")
        #expect(try await store.claimSecondFactorStep(userID: alice.id, step: 101))
        #expect(try await store.replaceRecoveryCodes(userID: alice.id, from: ["r1", "r2", "r3"], to: ["r2", "r3"]))
        #expect(try await store.replaceRecoveryCodes(userID: alice.id, from: ["r1", "r2", "r3"], to: ["r1", "r3"]) == false,
                "a second sign-in racing with the same list loses")
        #expect(try await store.user(id: alice.id)?.recoveryCodes == ["r2", "r3"])
    }
}

@Suite struct UsageDayTests {
    @Test func daysAndPeriodsAreUTC() {
        #expect(UsageRecord.day(of: Date(timeIntervalSince1970: 0)) == "1970-01-01")
        #expect(UsageRecord.day(of: Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29")
        #expect(UsageRecord.day(of: Date(timeIntervalSince1970: 1_796_255_999)) == "2026-12-02", "one second before midnight")
        let noon = Date(timeIntervalSince1970: 1_796_299_200) // 2026-12-03 12:00 UTC
        #expect(BudgetPeriod.day.span(of: noon).firstDay == "2026-12-03")
        #expect(BudgetPeriod.day.span(of: noon).end == Date(timeIntervalSince1970: 1_796_342_400))
        #expect(BudgetPeriod.month.span(of: noon).firstDay == "2026-12-01")
        #expect(BudgetPeriod.month.span(of: noon).end == Date(timeIntervalSince1970: 1_798_761_600), "2027-01-01")
    }
}
