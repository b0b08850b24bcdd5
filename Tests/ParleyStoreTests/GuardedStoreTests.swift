import Foundation
import Logging
import ParleyCore
import ParleyStore
import Synchronization
import Testing

/// The outage guard around any store: deadlines on every call, fail-fast while the health check fails,
/// recovery when it passes again. A real SQLite store sits underneath; its "outage" is a ping that hangs.
@Suite struct GuardedStoreTests {
    @Test func anOutageFailsCallsFastAndServiceResumes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-guard-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sqlite = try SQLiteConversationStore(path: directory + "/parley.db")
        try await sqlite.migrate()
        let hanging = HangSwitch()
        let guarded = GuardedConversationStore(HangingPingStore(base: sqlite, hang: hanging), callTimeout: .seconds(2),
                                               logger: Logger(label: "test"))
        let conversation = try await guarded.createConversation(NewConversation(title: "x"), owner: .local)
        await guarded.checkHealth(timeout: .seconds(10))
        #expect(guarded.isAvailable)

        hanging.set(true)
        await guarded.checkHealth(timeout: .milliseconds(200))
        #expect(!guarded.isAvailable, "a ping that does not answer in time is an outage")
        await #expect(throws: ParleyError.self) { try await guarded.conversation(id: conversation.id, owner: .local) }
        await #expect(throws: ParleyError.self, "ping itself is bounded by the call deadline") { try await guarded.ping() }

        hanging.set(false)
        await guarded.checkHealth(timeout: .seconds(10))
        #expect(guarded.isAvailable)
        #expect(try await guarded.conversation(id: conversation.id, owner: .local).title == "x")
    }

    @Test func aSlowDatabaseThatAnswersWithinTheCallDeadlineIsNoOutage() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-guard-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sqlite = try SQLiteConversationStore(path: directory + "/parley.db")
        try await sqlite.migrate()
        // Each ping takes 600 ms, more than the checks' interval and far less than the calls' deadline.
        let slow = HangingPingStore(base: sqlite, hang: HangSwitch(), pause: .milliseconds(600))
        let guarded = GuardedConversationStore(slow, callTimeout: .seconds(10), logger: Logger(label: "test"))
        let checks = Task { await guarded.runHealthChecks(every: .milliseconds(100)) }
        defer { checks.cancel() }
        for _ in 0..<15 {
            try await Task.sleep(for: .milliseconds(100))
            #expect(guarded.isAvailable, "a ping that answers within the call deadline is no outage")
        }
        _ = try await guarded.createConversation(NewConversation(title: "still served"), owner: .local)
    }
}

final class HangSwitch: Sendable {
    private let value = Mutex(false)
    func set(_ hang: Bool) { value.withLock { $0 = hang } }
    var isOn: Bool { value.withLock { $0 } }
}

/// A store whose ping hangs (ignoring cancellation) while the switch is on; everything else goes to SQLite.
struct HangingPingStore: ConversationStore {
    let base: SQLiteConversationStore
    let hang: HangSwitch
    /// How long every ping takes, hanging or not.
    var pause: Duration = .zero

    func ping() async throws {
        if pause > .zero { try? await Task.sleep(for: pause) }
        // Ignores cancellation, as a call stuck on a dead connection would (each pause in a task of its own,
        // so cancelling this one does not end the pauses).
        while hang.isOn { await Task { try? await Task.sleep(for: .milliseconds(10)) }.value }
        try await base.ping()
    }
    func migrate() async throws { try await base.migrate() }
    func createConversation(_ new: NewConversation, owner: UserID) async throws -> Conversation {
        try await base.createConversation(new, owner: owner)
    }
    func listConversations(owner: UserID, query: ConversationQuery) async throws -> Page<Conversation> {
        try await base.listConversations(owner: owner, query: query)
    }
    func conversation(id: UUID, owner: UserID) async throws -> Conversation {
        try await base.conversation(id: id, owner: owner)
    }
    func updateConversation(id: UUID, owner: UserID, patch: ConversationPatch) async throws -> Conversation {
        try await base.updateConversation(id: id, owner: owner, patch: patch)
    }
    func deleteConversation(id: UUID, owner: UserID) async throws { try await base.deleteConversation(id: id, owner: owner) }
    func setGeneratedTitle(conversationID: UUID, owner: UserID, title: String) async throws -> Bool {
        try await base.setGeneratedTitle(conversationID: conversationID, owner: owner, title: title)
    }
    func messages(conversationID: UUID, owner: UserID, window: MessageWindow, limit: Int) async throws -> MessagePage {
        try await base.messages(conversationID: conversationID, owner: owner, window: window, limit: limit)
    }
    func contextMessages(conversationID: UUID, before: Int, limit: Int) async throws -> [(index: Int, message: ChatMessage)] {
        try await base.contextMessages(conversationID: conversationID, before: before, limit: limit)
    }
    func deleteMessages(conversationID: UUID, owner: UserID, fromIndex: Int) async throws {
        try await base.deleteMessages(conversationID: conversationID, owner: owner, fromIndex: fromIndex)
    }
    func message(id: UUID, owner: UserID) async throws -> Message { try await base.message(id: id, owner: owner) }
    func reopenAnswer(id: UUID, owner: UserID, lease: Duration) async throws -> Message {
        try await base.reopenAnswer(id: id, owner: owner, lease: lease)
    }
    func startTurn(conversationID: UUID, owner: UserID, userContent: String, attachments: [AttachmentReference],
                   model: String?, defaultModel: String?, historyLimit: Int, lease: Duration,
                   replacingFrom: Int?) async throws -> Turn {
        try await base.startTurn(conversationID: conversationID, owner: owner, userContent: userContent,
                                 attachments: attachments, model: model, defaultModel: defaultModel,
                                 historyLimit: historyLimit, lease: lease, replacingFrom: replacingFrom)
    }
    func setSources(messageID: UUID, sources: String) async throws { try await base.setSources(messageID: messageID, sources: sources) }
    func savePartialContent(_ updates: [PartialAnswer]) async throws { try await base.savePartialContent(updates) }
    func finishMessage(id: UUID, _ completion: MessageCompletion) async throws -> Message {
        try await base.finishMessage(id: id, completion)
    }
    func renewLeases(_ ids: [UUID], for duration: Duration) async throws -> [UUID: MessageStatus] {
        try await base.renewLeases(ids, for: duration)
    }
    func interruptExpiredGenerations() async throws -> [UUID] { try await base.interruptExpiredGenerations() }
    func endStreaming(id: UUID, status: MessageStatus, errorMessage: String?) async throws -> Bool {
        try await base.endStreaming(id: id, status: status, errorMessage: errorMessage)
    }
    func importConversation(_ conversation: ConversationImport) async throws { try await base.importConversation(conversation) }
    func messageTree(conversationID: UUID, owner: UserID, after: Int, limit: Int) async throws -> MessagePage {
        try await base.messageTree(conversationID: conversationID, owner: owner, after: after, limit: limit)
    }
    func switchBranch(conversationID: UUID, owner: UserID, to messageID: UUID) async throws {
        try await base.switchBranch(conversationID: conversationID, owner: owner, to: messageID)
    }
    func search(owner: UserID, terms: SearchTerms, limit: Int, offset: Int) async throws -> SearchResults {
        try await base.search(owner: owner, terms: terms, limit: limit, offset: offset)
    }
    func setFeedback(messageID: UUID, owner: UserID, rating: Int, comment: String?) async throws -> Feedback {
        try await base.setFeedback(messageID: messageID, owner: owner, rating: rating, comment: comment)
    }
    func deleteFeedback(messageID: UUID, owner: UserID) async throws { try await base.deleteFeedback(messageID: messageID, owner: owner) }
}
