import GRDB
import Synchronization

/// Group commit for the single SQLite writer: writes submitted while another transaction runs are applied
/// together in the next one, each inside its own savepoint (so one failing write rolls back only itself).
/// Under light load every write gets its own transaction as before; under load there is one writer-queue
/// hop and one commit per batch instead of per write.
final class SQLiteWriteBatcher: Sendable {
    private struct Entry {
        var operation: @Sendable (Database) throws -> Void
        var done: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var pending: [Entry] = []
        var draining = false
    }

    private let pool: DatabasePool
    private let state = Mutex(State())

    init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Writes submitted and not yet taken by the writer.
    var pendingCount: Int { state.withLock { $0.pending.count } }

    /// Runs `body` in a write transaction shared with other writes submitted at the same time.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let result = ResultBox<T>()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let entry = Entry(operation: { db in result.value = try body(db) }, done: continuation)
            let startDraining = state.withLock { state -> Bool in
                state.pending.append(entry)
                guard !state.draining else { return false }
                state.draining = true
                return true
            }
            if startDraining { pool.asyncWriteWithoutTransaction { db in self.drain(db) } }
        }
        return result.value!
    }

    /// Runs on the writer queue until nothing is pending.
    private func drain(_ db: Database) {
        while true {
            let batch = state.withLock { state -> [Entry] in
                let batch = state.pending
                state.pending.removeAll()
                if batch.isEmpty { state.draining = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            var outcomes: [Result<Void, any Error>] = []
            outcomes.reserveCapacity(batch.count)
            do {
                try db.inImmediateTransaction {
                    if batch.count == 1 {
                        outcomes.append(Result { try batch[0].operation(db) })
                        // A lone failed write rolls the transaction back instead of using a savepoint.
                        if case .failure = outcomes[0] { return .rollback }
                    } else {
                        for entry in batch {
                            outcomes.append(Result { try db.inBatchSavepoint { try entry.operation(db) } })
                        }
                    }
                    return .commit
                }
                for (entry, outcome) in zip(batch, outcomes) { entry.done.resume(with: outcome) }
            } catch {
                for entry in batch { entry.done.resume(throwing: error) }
            }
        }
    }
}

/// Carries a write's result from the writer queue to the waiting task; the continuation orders the accesses.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
