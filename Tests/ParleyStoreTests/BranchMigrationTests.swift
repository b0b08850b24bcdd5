import Foundation
import GRDB
import ParleyCore
@testable import ParleyStore
import Testing

/// Conversations written before branches existed come through migration 023 as one branch: each question follows
/// the answer before it, so none looks like a version of another.
@Suite struct BranchMigrationTests {
    @Test func conversationsFromBeforeBranchesBecomeOneBranch() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-branches-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("old.db").path
        let queue = try DatabaseQueue(path: path)
        try SQLiteMigrations.migrator.migrate(queue, upTo: "022_answer_reasoning")
        let conversation = UUID.v7()
        let ids = (1...4).map { _ in UUID.v7() }
        try await queue.write { db in
            try db.execute(sql: """
                INSERT INTO conversations (id, owner_id, title, message_count, last_index, created_at, updated_at)
                VALUES (?, 'alice', 'old', 4, 4, 0, 0)
                """, arguments: [conversation.lowercased])
            for (position, id) in ids.enumerated() {
                let index = position + 1
                try db.execute(sql: """
                    INSERT INTO messages (id, conversation_id, idx, parent_id, role, content, status, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, 'complete', 0, 0)
                    """, arguments: [id.lowercased, conversation.lowercased, index,
                                     index % 2 == 0 ? ids[position - 1].lowercased : nil, index % 2 == 1 ? "user" : "assistant",
                                     "message \(index)"])
            }
        }
        try queue.close()
        let store = try SQLiteConversationStore(path: path)
        try await store.migrate()
        let page = try await store.messages(conversationID: conversation, owner: UserID("alice"), before: nil, limit: 10)
        #expect(page.messages.map(\.id) == ids)
        #expect(page.messages.map(\.parentID) == [nil, ids[0], ids[1], ids[2]])
        #expect(page.messages.allSatisfy { $0.siblingIDs.isEmpty && $0.onActiveBranch })
    }
}
