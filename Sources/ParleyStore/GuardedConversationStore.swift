import CoreMetrics
import Foundation
import Logging
import ParleyAccounts
import ParleyCore
import Synchronization
import Tracing

/// Wraps a store so that a database outage makes requests fail fast with a clear
/// ``ParleyError/unavailable(_:)`` (a 503) instead of hanging, and service resumes by itself when the database
/// returns.
///
/// Every call has a deadline. ``runHealthChecks(every:)`` pings the database; while pings fail, calls are
/// refused at once without waiting on the database, and ``isAvailable`` (the readiness check) is false.
public final class GuardedConversationStore: ConversationStore {
    public let base: any ConversationStore
    /// Longest any single call may take.
    public let callTimeout: Duration
    private let logger: Logger
    private let outage = Mutex<String?>(nil)
    private let deadlines = CallDeadlines()

    /// The same database's accounts (both stores implement them), behind the same guard.
    let accountBase: (any AccountStore)?

    public init(_ base: any ConversationStore, callTimeout: Duration = .seconds(5), logger: Logger) {
        self.base = base
        self.accountBase = base as? any AccountStore
        self.callTimeout = callTimeout
        self.logger = logger
    }

    /// False while the last health check failed.
    public var isAvailable: Bool { outage.withLock { $0 == nil } }

    /// Pings the database every `interval` until cancelled, switching ``isAvailable`` as the answers change. A ping
    /// may take as long as any call (`callTimeout`): a database slowed by load but answering within the deadline
    /// its calls have is not an outage, and refusing every request because one ping took over a second would make
    /// the load the cause of an outage.
    public func runHealthChecks(every interval: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            await checkHealth(timeout: callTimeout)
            try? await Task.sleep(for: interval)
        }
    }

    /// One health check.
    public func checkHealth(timeout: Duration) async {
        let base = self.base
        var failure: String?
        do {
            try await deadlines.run(timeout) { try await base.ping() }
        } catch {
            failure = Self.reason(error)
        }
        let previous = outage.withLock { state in
            defer { state = failure }
            return state
        }
        switch (previous, failure) {
        case (nil, let failure?):
            logger.error("the database is unreachable; refusing requests until it answers", metadata: ["error": "\(failure)"])
        case (_?, nil):
            logger.notice("the database answers again")
        default:
            break
        }
    }

    private static func reason(_ error: any Error) -> String {
        switch error {
        case let error as ParleyError: return error.description
        case let error as DeadlineExceeded: return error.description
        default: return "\(error)"
        }
    }

    private static let callDurations = MetricFamily(timer: MetricName.databaseCallDuration, labels: ["operation", "outcome"])
    private static let callsInFlight = Meter(label: MetricName.databaseCallsInFlight)

    /// Runs a call under the deadline, or refuses it at once during an outage. Each call is timed in
    /// ``MetricName/databaseCallDuration`` by `operation` (the calling method's name) and `outcome`, and is a client
    /// span of the request or turn that made it while tracing is on.
    func guarded<T: Sendable>(operation: StaticString = #function,
                              _ call: @escaping @Sendable (any ConversationStore) async throws -> T) async throws -> T {
        if let failure = outage.withLock({ $0 }) {
            throw ParleyError.unavailable("the database is unreachable (\(failure)); try again shortly")
        }
        let started = ContinuousClock.now
        var outcome = "ok"
        let name = Self.name(operation)
        let span = Traces.start(name, kind: .client, childOnly: true)
        span?.attributes["db.system.name"] = system
        span?.attributes["db.operation.name"] = name
        Self.callsInFlight.increment()
        defer {
            Self.callsInFlight.decrement()
            Self.callDurations(name, outcome).recordSince(started)
            span?.end()
        }
        do {
            return try await Traces.within(span) { try await withinDeadline(callTimeout, call) }
        } catch {
            outcome = error is ParleyError ? "timeout" : "error"
            Traces.failed(span, error, type: outcome)
            throw error
        }
    }

    /// A store method's name without its arguments (`messages`, `finishGeneration`).
    private static func name(_ operation: StaticString) -> String {
        operation.withUTF8Buffer { bytes in
            String(decoding: bytes.prefix { $0 != UInt8(ascii: "(") }, as: UTF8.self)
        }
    }

    /// The database's name in OpenTelemetry's `db.system.name`.
    private var system: String {
        base is PostgresConversationStore ? "postgresql" : "sqlite"
    }

    /// Runs a call under `limit`; running out of time is ``ParleyError/unavailable(_:)``.
    private func withinDeadline<T: Sendable>(_ limit: Duration,
                                            _ call: @escaping @Sendable (any ConversationStore) async throws -> T)
        async throws -> T
    {
        let base = self.base
        do {
            return try await deadlines.run(limit) { try await call(base) }
        } catch let error as DeadlineExceeded {
            throw ParleyError.unavailable("the database did not answer in time (\(error.limit)); try again shortly")
        }
    }

    public func migrate() async throws { try await base.migrate() }

    /// Asks the database itself, even during an outage (the readiness check).
    public func ping() async throws {
        try await withinDeadline(callTimeout) { try await $0.ping() }
    }

    public func createConversation(_ new: NewConversation, owner: UserID) async throws -> Conversation {
        try await guarded { try await $0.createConversation(new, owner: owner) }
    }

    public func listConversations(owner: UserID, query: ConversationQuery) async throws -> Page<Conversation> {
        try await guarded { try await $0.listConversations(owner: owner, query: query) }
    }

    public func conversation(id: UUID, owner: UserID) async throws -> Conversation {
        try await guarded { try await $0.conversation(id: id, owner: owner) }
    }

    public func updateConversation(id: UUID, owner: UserID, patch: ConversationPatch) async throws -> Conversation {
        try await guarded { try await $0.updateConversation(id: id, owner: owner, patch: patch) }
    }

    public func deleteConversation(id: UUID, owner: UserID) async throws {
        try await guarded { try await $0.deleteConversation(id: id, owner: owner) }
    }

    public func setGeneratedTitle(conversationID: UUID, owner: UserID, title: String) async throws -> Bool {
        try await guarded { try await $0.setGeneratedTitle(conversationID: conversationID, owner: owner, title: title) }
    }

    public func messages(conversationID: UUID, owner: UserID, window: MessageWindow, limit: Int) async throws -> MessagePage {
        try await guarded { try await $0.messages(conversationID: conversationID, owner: owner, window: window, limit: limit) }
    }

    public func contextMessages(conversationID: UUID, before: Int, limit: Int) async throws
        -> [(index: Int, message: ChatMessage)]
    {
        try await guarded {
            try await $0.contextMessages(conversationID: conversationID, before: before, limit: limit).map(ContextRow.init)
        }.map { ($0.index, $0.message) }
    }

    public func messageTree(conversationID: UUID, owner: UserID, after: Int, limit: Int) async throws -> MessagePage {
        try await guarded { try await $0.messageTree(conversationID: conversationID, owner: owner, after: after, limit: limit) }
    }

    public func switchBranch(conversationID: UUID, owner: UserID, to messageID: UUID) async throws {
        try await guarded { try await $0.switchBranch(conversationID: conversationID, owner: owner, to: messageID) }
    }

    public func deleteMessages(conversationID: UUID, owner: UserID, fromIndex: Int) async throws {
        try await guarded { try await $0.deleteMessages(conversationID: conversationID, owner: owner, fromIndex: fromIndex) }
    }

    public func message(id: UUID, owner: UserID) async throws -> Message {
        try await guarded { try await $0.message(id: id, owner: owner) }
    }

    public func startTurn(conversationID: UUID, owner: UserID, userContent: String, attachments: [AttachmentReference],
                          model: String?, defaultModel: String?, historyLimit: Int, lease: Duration,
                          replacingFrom: Int?) async throws -> Turn {
        try await guarded {
            try await $0.startTurn(conversationID: conversationID, owner: owner, userContent: userContent,
                                   attachments: attachments, model: model, defaultModel: defaultModel,
                                   historyLimit: historyLimit, lease: lease, replacingFrom: replacingFrom)
        }
    }

    public func savePartialContent(_ updates: [PartialAnswer]) async throws {
        try await guarded { try await $0.savePartialContent(updates) }
    }

    public func reopenAnswer(id: UUID, owner: UserID, lease: Duration) async throws -> Message {
        try await guarded { try await $0.reopenAnswer(id: id, owner: owner, lease: lease) }
    }

    public func setSources(messageID: UUID, sources: String) async throws {
        try await guarded { try await $0.setSources(messageID: messageID, sources: sources) }
    }

    public func finishMessage(id: UUID, _ completion: MessageCompletion) async throws -> Message {
        try await guarded { try await $0.finishMessage(id: id, completion) }
    }

    public func renewLeases(_ ids: [UUID], for duration: Duration) async throws -> [UUID: MessageStatus] {
        try await guarded { try await $0.renewLeases(ids, for: duration) }
    }

    public func interruptExpiredGenerations() async throws -> [UUID] {
        try await guarded { try await $0.interruptExpiredGenerations() }
    }

    public func endStreaming(id: UUID, status: MessageStatus, errorMessage: String?) async throws -> Bool {
        try await guarded { try await $0.endStreaming(id: id, status: status, errorMessage: errorMessage) }
    }

    public func importConversation(_ conversation: ConversationImport) async throws {
        try conversation.validate()
        try await guarded { try await $0.importConversation(conversation) }
    }

    public func search(owner: UserID, terms: SearchTerms, limit: Int, offset: Int) async throws -> SearchResults {
        try await guarded { try await $0.search(owner: owner, terms: terms, limit: limit, offset: offset) }
    }

    public func setFeedback(messageID: UUID, owner: UserID, rating: Int, comment: String?) async throws -> Feedback {
        try await guarded { try await $0.setFeedback(messageID: messageID, owner: owner, rating: rating, comment: comment) }
    }

    public func deleteFeedback(messageID: UUID, owner: UserID) async throws {
        try await guarded { try await $0.deleteFeedback(messageID: messageID, owner: owner) }
    }
}

/// Sendable forms of the tuples some calls take and return.
private struct ContextRow: Sendable {
    let index: Int
    let message: ChatMessage
    init(_ row: (index: Int, message: ChatMessage)) { (index, message) = row }
}
