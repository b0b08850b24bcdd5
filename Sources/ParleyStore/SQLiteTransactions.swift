import GRDB

/// The write batcher's transaction and savepoints, begun and ended through cached statements.
///
/// GRDB's `inTransaction` and `inSavepoint` prepare their `BEGIN`, `COMMIT`, `SAVEPOINT` and `RELEASE` anew each
/// time (about 12,000 instructions each; a chat turn made five). GRDB still sees what each statement does to the
/// transaction, since that is known when a statement is prepared, cached or not.
extension Database {
    /// Runs `operations` in an immediate transaction: committed when it returns `.commit` and the transaction is
    /// still open, rolled back when it returns `.rollback` or throws (the first error is the one thrown).
    func inImmediateTransaction(_ operations: () throws -> TransactionCompletion) throws {
        try cachedStatement(sql: "BEGIN IMMEDIATE TRANSACTION").execute()
        do {
            guard try operations() == .commit else {
                try rollback()
                return
            }
            try checkTransactionIsOpen()
            try cachedStatement(sql: "COMMIT TRANSACTION").execute()
        } catch {
            try? rollback()
            throw error
        }
    }

    /// Runs `operation` in a savepoint of the open transaction: kept when it returns, undone when it throws.
    func inBatchSavepoint(_ operation: () throws -> Void) throws {
        try checkTransactionIsOpen()
        try cachedStatement(sql: "SAVEPOINT batch").execute()
        do {
            try operation()
            try checkTransactionIsOpen()
            try cachedStatement(sql: "RELEASE SAVEPOINT batch").execute()
        } catch {
            if isInsideTransaction {
                try? cachedStatement(sql: "ROLLBACK TRANSACTION TO SAVEPOINT batch").execute()
                try? cachedStatement(sql: "RELEASE SAVEPOINT batch").execute()
            }
            throw error
        }
    }

    /// Throws when SQLite ended the transaction on its own (disk full, I/O error): what follows would otherwise
    /// run and commit statement by statement, outside it.
    func checkTransactionIsOpen() throws {
        guard isInsideTransaction else {
            throw DatabaseError(resultCode: .SQLITE_ABORT, message: "the transaction was rolled back by SQLite")
        }
    }
}
