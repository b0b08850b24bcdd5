import Foundation
import GRDB
import ParleyCore
@testable import ParleyStore
import Testing

/// The contract suite on SQLite, each test on its own fresh database file.
@Suite struct SQLiteStoreTests {
    static func freshStore() async throws -> (SQLiteConversationStore, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("test.db").path
        let store = try SQLiteConversationStore(path: path)
        try await store.migrate()
        return (store, directory.path)
    }

    static let checks: [(String, @Sendable (any ConversationStore) async throws -> Void)] = [
        ("create, get, update, delete", ConversationStoreContract.createGetUpdateDelete),
        ("other owners see nothing", ConversationStoreContract.otherOwnersSeeNothing),
        ("list newest first, paging, search", ConversationStoreContract.listNewestFirstWithCursorPagingAndSearch),
        ("turn indexes and title", ConversationStoreContract.turnsGetConsecutiveIndexesAndTitleTheConversation),
        ("50 concurrent turns lose nothing", ConversationStoreContract.concurrentTurnsLoseNothing),
        ("messages paged by index", ConversationStoreContract.messagesArePagedBackwardsByIndex),
        ("generation lifecycle", ConversationStoreContract.generationLifecycle),
        ("expired leases are reaped, live ones kept", ConversationStoreContract.expiredLeasesAreReapedLiveOnesKept),
        ("ending a stream only ends streaming messages", ConversationStoreContract.endStreamingOnlyEndsStreamingMessages),
        ("feedback", ConversationStoreContract.feedbackOnAssistantMessagesOnly),
        ("clear keeps the conversation", ConversationStoreContract.clearingKeepsTheConversation),
        ("deleting from an index keeps what came before", ConversationStoreContract.deletingFromAnIndexKeepsWhatCameBefore),
        ("a replacing turn replaces in the same transaction", ConversationStoreContract.aReplacingTurnTakesTheReplacedOffTheBranchAndOutOfItsContext),
        ("edits keep every version; switching branch brings them back", BranchStoreContract.editsKeepEveryVersionAndSwitchingBringsThemBack),
        ("delete removes messages", ConversationStoreContract.deletingRemovesMessages),
        ("unicode and large content", ConversationStoreContract.unicodeAndLargeContentRoundTrip),
        ("context messages", ConversationStoreContract.contextMessagesSkipWhatCannotBeSent),
        ("start turn reads history, picks the model", ConversationStoreContract.startTurnReadsHistoryAndPicksTheModel),
        ("a failing write spares concurrent ones", ConversationStoreContract.aFailingWriteDoesNotTakeConcurrentOnesWithIt),
        ("search finds finished messages and titles, ranked", ConversationStoreContract.searchFindsFinishedMessagesAndTitlesRanked),
        ("imported conversations read back whole", ConversationStoreContract.importedConversationsReadBackWhole),
        ("pinned, archived and tagged conversations are listed apart", ConversationStoreContract.organisedConversationsAreListedApart),
        ("a model-written title never replaces the user's", ConversationStoreContract.generatedTitlesSpareTheUsers),
        ("parameters are kept and recorded on answers", ConversationStoreContract.parametersAreKeptAndRecordedOnAnswers),
        ("retrieval settings are kept and read with each turn", ConversationStoreContract.retrievalSettingsAreKeptAndReadWithEachTurn),
        ("saved prompts belong to their owner, one per command", ConversationStoreContract.savedPromptsBelongToTheirOwner),
        ("shared links show the conversation as shared", ConversationStoreContract.sharedLinksShowTheConversationAsShared),
        ("attachments belong to their owner and ride on messages", ConversationStoreContract.attachmentsBelongToTheirOwnerAndRideOnMessages),
    ]

    @Test(arguments: checks.map(\.0))
    func contract(_ name: String) async throws {
        let (store, directory) = try await Self.freshStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let check = try #require(Self.checks.first { $0.0 == name }?.1)
        try await check(store)
    }

    @Test(arguments: KnowledgeStoreContract.checks.map(\.0))
    func knowledge(_ name: String) async throws {
        let (store, directory) = try await Self.freshStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let check = try #require(KnowledgeStoreContract.checks.first { $0.0 == name }?.1)
        try await check(store)
    }

    @Test(arguments: AccountStoreContract.checks.map(\.0))
    func accounts(_ name: String) async throws {
        let (store, directory) = try await Self.freshStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let check = try #require(AccountStoreContract.checks.first { $0.0 == name }?.1)
        try await check(store)
    }

    @Test func dataSurvivesReopeningTheFile() async throws {
        let (store, directory) = try await Self.freshStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let conversation = try await store.createConversation(NewConversation(title: "durable"), owner: .local)
        let turn = try await store.appendTurn(conversationID: conversation.id, owner: .local, userContent: "hi", model: "m")
        _ = try await store.finishMessage(id: turn.assistant.id, MessageCompletion(content: "hello", status: .complete))

        let reopened = try SQLiteConversationStore(path: store.path)
        try await reopened.migrate()
        let page = try await reopened.messages(conversationID: conversation.id, owner: .local, before: nil, limit: 10)
        #expect(page.messages.map(\.content) == ["hi", "hello"])
        #expect(try await reopened.conversation(id: conversation.id, owner: .local).title == "durable")
    }

    @Test func usesWriteAheadLogging() async throws {
        let (store, directory) = try await Self.freshStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try await store.createConversation(NewConversation(), owner: .local)
        #expect(FileManager.default.fileExists(atPath: store.path + "-wal"))
    }

    @Test func readsMapTheFile() async throws {
        let (store, directory) = try await Self.freshStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let mapped = try await store.read { db in try Int.fetchOne(db, sql: "PRAGMA mmap_size") }
        #expect(mapped == 2_147_418_112, "SQLite's largest map in Debian's build")
    }

    /// Each turn sets the title only while it is empty; the title index is written only when the title changes
    /// (it used to be deleted and inserted again on every turn, a new index segment each time).
    @Test func turnsLeaveTheTitleIndexAloneUnlessTheTitleChanges() async throws {
        let (store, directory) = try await Self.freshStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func indexRows() async throws -> Int {
            try await store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM conversations_fts_data") ?? 0 }
        }
        let conversation = try await store.createConversation(NewConversation(), owner: .local)
        let first = try await store.appendTurn(conversationID: conversation.id, owner: .local, userContent: "zebra crossing",
                                               model: "m")
        _ = try await store.finishMessage(id: first.assistant.id, MessageCompletion(content: "a", status: .complete))
        let titled = try await indexRows()
        for turn in 0..<3 {
            let next = try await store.appendTurn(conversationID: conversation.id, owner: .local, userContent: "q\(turn)",
                                                  model: "m")
            _ = try await store.finishMessage(id: next.assistant.id, MessageCompletion(content: "a", status: .complete))
            #expect(try await indexRows() == titled, "turn \(turn) rewrote the title index")
        }
        #expect(try await store.conversation(id: conversation.id, owner: .local).title == "zebra crossing")

        var rename = ConversationPatch()
        rename.title = "giraffe habitat"
        _ = try await store.updateConversation(id: conversation.id, owner: .local, patch: rename)
        let found = try await store.search(owner: .local, terms: SearchTerms("giraffe")!, limit: 10, offset: 0)
        #expect(found.conversations.map(\.conversation.id) == [conversation.id])
        let gone = try await store.search(owner: .local, terms: SearchTerms("zebra")!, limit: 10, offset: 0)
        #expect(gone.conversations.isEmpty)
    }
}

@Suite struct MillisecondTests {
    @Test func storedMillisecondsRoundTripExactly() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            let millis = Int64.random(in: 0...4_102_444_800_000, using: &generator)
            #expect(Date(millis: millis).millis == millis)
        }
    }
}
