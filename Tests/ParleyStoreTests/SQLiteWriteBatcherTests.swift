import Foundation
import GRDB
@testable import ParleyStore
import Synchronization
import Testing

/// The group-commit writer on a real database file: writes that arrive together share one transaction, each in
/// its own savepoint.
@Suite struct SQLiteWriteBatcherTests {
    struct Failure: Error {}

    /// The ids of the writes that ran, in the order they ran.
    final class Ran: Sendable {
        let ids = Mutex<[Int]>([])
    }

    private static func pool() throws -> (DatabasePool, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-batcher-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let pool = try DatabasePool(path: directory.appendingPathComponent("test.db").path)
        try pool.write { db in try db.execute(sql: "CREATE TABLE items (id INTEGER PRIMARY KEY)") }
        return (pool, directory.path)
    }

    private static func ids(_ pool: DatabasePool) throws -> [Int] {
        try pool.read { db in try Int.fetchAll(db, sql: "SELECT id FROM items ORDER BY id") }
    }

    /// Holds the writer busy until `release` is called, so that the writes submitted meanwhile form one batch.
    private static func occupy(_ batcher: SQLiteWriteBatcher) async -> (task: Task<Void, any Error>, release: @Sendable () -> Void) {
        let gate = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let task = Task { try await batcher.write { _ in started.signal(); gate.wait() } }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { started.wait(); continuation.resume() }
        }
        return (task, { gate.signal() })
    }

    private static func waitUntilPending(_ batcher: SQLiteWriteBatcher, _ count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while batcher.pendingCount < count {
            try #require(ContinuousClock.now < deadline, "only \(batcher.pendingCount) of \(count) writes were submitted")
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Submits writes 1...`count` while the writer is held, so that they form one batch, then lets it go; returns the
    /// batcher and each write's result, in order of id.
    private static func oneBatch(_ pool: DatabasePool, of count: Int,
                                 _ write: @escaping @Sendable (Int, Database) throws -> Void) async throws
        -> (SQLiteWriteBatcher, [Result<Void, any Error>])
    {
        let batcher = SQLiteWriteBatcher(pool: pool)
        let (blocker, release) = await occupy(batcher)
        defer { release() }  // Never leaves the writer held, even when the test fails early (a second signal is harmless).
        let writes = (1...count).map { id in Task { try await batcher.write { db in try write(id, db) } } }
        try await waitUntilPending(batcher, count)
        release()
        try await blocker.value
        var results: [Result<Void, any Error>] = []
        for write in writes { results.append(await write.result) }
        return (batcher, results)
    }

    @Test func aWriteThatFailsInABatchRollsBackOnlyItself() async throws {
        let (pool, directory) = try Self.pool()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (batcher, results) = try await Self.oneBatch(pool, of: 5) { id, db in
            try db.execute(sql: "INSERT INTO items (id) VALUES (?)", arguments: [id])
            if id == 3 { throw Failure() }
        }
        for (offset, result) in results.enumerated() {
            if offset + 1 == 3 { #expect(throws: Failure.self) { try result.get() } } else { try result.get() }
        }
        #expect(try Self.ids(pool) == [1, 2, 4, 5])
        // The connection is left outside any transaction, and the statements kept can run again.
        try await batcher.write { db in try db.execute(sql: "INSERT INTO items (id) VALUES (6)") }
        #expect(try Self.ids(pool) == [1, 2, 4, 5, 6])
    }

    @Test func aLoneWriteThatFailsIsRolledBack() async throws {
        let (pool, directory) = try Self.pool()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let batcher = SQLiteWriteBatcher(pool: pool)
        await #expect(throws: Failure.self) {
            try await batcher.write { db in
                try db.execute(sql: "INSERT INTO items (id) VALUES (1)")
                throw Failure()
            }
        }
        #expect(try Self.ids(pool) == [])
        let isOpen = try await batcher.write { db in db.isInsideTransaction }
        #expect(isOpen)
        try await batcher.write { db in try db.execute(sql: "INSERT INTO items (id) VALUES (2)") }
        #expect(try Self.ids(pool) == [2])
    }

    /// When the transaction ends under a batch (SQLite rolls it back on a full disk or an I/O error), the writes
    /// after it do not run statement by statement outside it, and none of the batch is reported as stored.
    @Test func aTransactionEndedUnderABatchStoresNothingAndSaysSo() async throws {
        let (pool, directory) = try Self.pool()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ran = Ran()
        let (batcher, results) = try await Self.oneBatch(pool, of: 3) { id, db in
            ran.ids.withLock { $0.append(id) }
            if id == 2 { try db.execute(sql: "ROLLBACK") } else { try db.execute(sql: "INSERT INTO items (id) VALUES (?)", arguments: [id]) }
        }
        for result in results {
            #expect(throws: DatabaseError.self) { try result.get() }
        }
        // Whatever order the three were taken in, none ran after the one that ended the transaction.
        #expect(ran.ids.withLock { $0.last } == 2)
        #expect(try Self.ids(pool) == [])
        try await batcher.write { db in try db.execute(sql: "INSERT INTO items (id) VALUES (4)") }
        #expect(try Self.ids(pool) == [4])
    }
}
