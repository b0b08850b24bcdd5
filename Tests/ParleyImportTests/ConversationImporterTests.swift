import Foundation
import ParleyCore
import ParleyImport
import ParleyStore
import Testing

/// Whole export files into a real SQLite store, fed in small chunks as an upload arrives.
@Suite struct ConversationImporterTests {
    static let owner = UserID("alice")

    static func store() async throws -> (SQLiteConversationStore, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-import-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try SQLiteConversationStore(path: directory + "/import.db")
        try await store.migrate()
        return (store, directory)
    }

    /// The file's bytes in chunks of `size`, as a request body would come.
    static func chunks(_ text: String, size: Int = 97) -> AsyncStream<[UInt8]> {
        let bytes = Array(text.utf8)
        return AsyncStream { continuation in
            var start = 0
            while start < bytes.count {
                continuation.yield(Array(bytes[start..<min(start + size, bytes.count)]))
                start += size
            }
            continuation.finish()
        }
    }

    @Test func aMixedFileIsImportedWithAReportOfWhatWasSkipped() async throws {
        let (store, directory) = try await Self.store()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = "[\(ExportFixtures.chatGPT), 42, {\"title\": \"a note\"}, {\"mapping\": {}}, \(ExportFixtures.openWebUI)]"
        let importer = ConversationImporter(store: store, owner: Self.owner, maxConversationBytes: 1 << 20)
        let report = try await importer.run(Self.chunks(file))
        #expect(report.formats == [.chatGPT, .openWebUI])
        #expect(report.conversations == 2 && report.messages == 10 && report.messagesLeftOut == 3, "root, system and tool nodes")
        #expect(report.skippedCount == 3 && report.failure == nil)
        #expect(report.skipped.map(\.position) == [1, 2, 3])
        #expect(report.skipped[1].title == "a note" && report.skipped[2].reason == "no message with text")

        let listed = try await store.listConversations(owner: Self.owner, query: ConversationQuery(limit: 10))
        #expect(Set(listed.items.map(\.title)) == ["Rust lifetimes", "Paris trip"])
        let rust = try #require(listed.items.first { $0.title == "Rust lifetimes" })
        #expect(rust.messageCount == 4)
        let page = try await store.messages(conversationID: rust.id, owner: Self.owner, before: nil, limit: 10)
        #expect(page.messages.map(\.content).last == "fn longest<'a>(x: &'a str, y: &'a str) -> &'a str")
        #expect(page.messages[2].siblingIDs.count == 2, "the edited question's two versions")
        // The other branch is a switch away.
        let other = try #require(page.messages[2].siblingIDs.last)
        try await store.switchBranch(conversationID: rust.id, owner: Self.owner, to: other)
        let switched = try await store.messages(conversationID: rust.id, owner: Self.owner, before: nil, limit: 10)
        #expect(switched.messages.map(\.content).suffix(2) == ["Show a short example", "Here: fn f<'a>(x: &'a str) -> &'a str"])
        let found = try await store.search(owner: Self.owner, terms: try #require(SearchTerms("Montmartre")), limit: 5, offset: 0)
        #expect(found.messages.count == 1, "imported messages are searchable")
    }

    @Test func aSingleConversationFileAndABrokenOneAreReported() async throws {
        let (store, directory) = try await Self.store()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let importer = ConversationImporter(store: store, owner: Self.owner, maxConversationBytes: 1 << 20)
        let single = try await importer.run(Self.chunks(ExportFixtures.libreChatNested, size: 5))
        #expect(single.formats == [.libreChat] && single.conversations == 1 && single.messages == 3)

        let cut = "[\(ExportFixtures.libreChatFlat), \(ExportFixtures.openWebUI.prefix(200))"
        let broken = try await importer.run(Self.chunks(cut))
        #expect(broken.conversations == 1 && broken.failure == "the file ends in the middle of its JSON", "\(broken)")
        let notJSON = try await importer.run(Self.chunks("Title,Body\nhello,world\n"))
        #expect(notJSON.conversations == 0 && notJSON.failure == "the file is not a JSON array or object")
        let small = ConversationImporter(store: store, owner: Self.owner, maxConversationBytes: 500)
        let tooLarge = try await small.run(Self.chunks("[\(ExportFixtures.chatGPT)]"))
        #expect(tooLarge.conversations == 0 && tooLarge.skipped.first?.reason == "larger than 500 bytes")
    }

    @Test func aLargeExportIsReadOneConversationAtATime() async throws {
        let (store, directory) = try await Self.store()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // 300 conversations of ChatGPT's shape, streamed without the file ever being whole in memory.
        let count = 300
        let stream = AsyncStream<[UInt8]> { continuation in
            continuation.yield(Array("[".utf8))
            for number in 0..<count {
                let element = ExportFixtures.chatGPT.replacingOccurrences(of: "Rust lifetimes", with: "Chat \(number)")
                continuation.yield(Array(((number == 0 ? "" : ",") + element).utf8))
            }
            continuation.yield(Array("]".utf8))
            continuation.finish()
        }
        let importer = ConversationImporter(store: store, owner: Self.owner, maxConversationBytes: 1 << 20)
        let report = try await importer.run(stream)
        #expect(report.conversations == count && report.messages == count * 6 && report.skippedCount == 0)
        let listed = try await store.listConversations(owner: Self.owner, query: ConversationQuery(limit: 100))
        #expect(listed.items.count == 100 && listed.nextCursor != nil)
    }
}
