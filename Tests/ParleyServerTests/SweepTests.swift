import Foundation
import ParleyAccounts
import ParleyCore
@testable import ParleyServer
import ParleyStore
import Testing

/// The database's periodic sweep keeps the account tables bounded: ended sessions, security events past their
/// retention and usage past its retention go; what is current stays.
@Suite struct SweepTests {
    @Test func theSweepRemovesWhatHasEndedAndKeepsTheRest() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-sweep-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let base = try SQLiteConversationStore(path: directory + "/sweep.db")
        try await base.migrate()
        let store = GuardedConversationStore(base, logger: TestParley.quietLogger)
        let user = User.new(email: "alice@example.com", name: "", role: .user, passwordHash: nil)
        try await store.createUser(user, asFirstUser: false)
        let now = Date()
        func session(created: Date, lastSeen: Date, lifetime: TimeInterval) -> SessionRecord {
            SessionRecord(id: .v7(), userID: user.id, tokenHash: Credentials.digest(Credentials.newToken()),
                          csrfToken: Credentials.newToken(), createdAt: created, lastSeenAt: lastSeen,
                          expiresAt: created.addingTimeInterval(lifetime), userAgent: "test", address: "127.0.0.1")
        }
        let live = session(created: now, lastSeen: now, lifetime: 3600)
        try await store.createSession(live)
        try await store.createSession(session(created: now.addingTimeInterval(-7200), lastSeen: now, lifetime: 3600))   // past its lifetime
        try await store.createSession(session(created: now.addingTimeInterval(-7200), lastSeen: now.addingTimeInterval(-7200),
                                              lifetime: 86_400))                                                  // idle too long
        try await store.recordAudit(AuditEvent(kind: .signedIn, userID: user.id, detail: "old", at: now.addingTimeInterval(-3 * 86_400)))
        try await store.recordAudit(AuditEvent(kind: .signedIn, userID: user.id, detail: "recent", at: now))
        let today = UsageRecord.day(of: now), longAgo = UsageRecord.day(of: now.addingTimeInterval(-30 * 86_400))
        try await store.addUsage([
            UsageRecord(day: longAgo, userID: user.id, keyID: nil, model: "m", requests: 1, promptTokens: 1, completionTokens: 1),
            UsageRecord(day: today, userID: user.id, keyID: nil, model: "m", requests: 1, promptTokens: 1, completionTokens: 1),
        ])

        let service = DatabaseService(store: store, pool: nil, listener: nil, redis: nil, sessionIdle: .seconds(3600),
                                      auditRetention: .seconds(86_400), usageRetentionDays: 10)
        let sweeping = Task { await service.sweepSessions(every: .milliseconds(50)) }
        defer { sweeping.cancel() }
        let deadline = ContinuousClock.now + .seconds(10)
        while try await store.sessions(userID: user.id).count > 1, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await store.sessions(userID: user.id).map(\.id) == [live.id])
        #expect(try await store.auditEvents(userID: user.id, before: nil, limit: 10).map(\.detail) == ["recent"])
        #expect(try await store.usage(userID: user.id, from: "2000-01-01").map(\.day) == [today])
    }
}
