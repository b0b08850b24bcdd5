import Foundation
import GRDB
import Synchronization

/// Adds finished messages to the SQLite full-text index in batches: writes that finish messages mark the index
/// stale, and one pass at most every ``delay`` indexes everything pending, a few thousand rows per transaction
/// so other writes interleave. A search first brings the index up to date, so it never misses a finished
/// message. Batching keeps FTS5 from writing (and later merging) an index segment for every transaction.
final class SQLiteSearchIndexer: Sendable {
    static let batchSize = 2_000
    let delay: Duration
    private struct State {
        var stale = false
        var scheduled = false
    }
    private let state = Mutex(State())

    init(delay: Duration = .milliseconds(500)) {
        self.delay = delay
    }

    /// Notes that messages may await indexing, and schedules a pass.
    func markStale(store: SQLiteConversationStore) {
        let schedule = state.withLock { state -> Bool in
            state.stale = true
            let schedule = !state.scheduled
            state.scheduled = true
            return schedule
        }
        guard schedule else { return }
        let delay = self.delay
        Task {
            try? await Task.sleep(for: delay)
            self.state.withLock { $0.scheduled = false }
            try? await self.catchUp(store: store)
        }
    }

    /// Indexes everything pending, if anything may be.
    func catchUp(store: SQLiteConversationStore) async throws {
        let stale = state.withLock { state -> Bool in
            let stale = state.stale
            state.stale = false
            return stale
        }
        guard stale else { return }
        do {
            while try await store.write({ db in try Self.indexBatch(db) }) == Self.batchSize {}
        } catch {
            state.withLock { $0.stale = true }
            throw error
        }
    }

    /// Indexes up to ``batchSize`` finished messages not yet indexed; returns how many.
    static func indexBatch(_ db: Database) throws -> Int {
        let rows = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT rowid, content FROM messages WHERE fts_indexed = 0 AND status <> 'streaming' LIMIT ?
            """), arguments: [batchSize])
        let index = try db.cachedStatement(sql: "INSERT INTO messages_fts (rowid, content) VALUES (?, ?)")
        let mark = try db.cachedStatement(sql: "UPDATE messages SET fts_indexed = 1 WHERE rowid = ?")
        for row in rows {
            let rowid: Int64 = row[0]
            let content: String = row[1]
            try index.execute(arguments: [rowid, content])
            try mark.execute(arguments: [rowid])
        }
        return rows.count
    }
}
