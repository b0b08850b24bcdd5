import Foundation
import Logging
import ParleyAccounts
import ParleyCore
import ServiceLifecycle
import Synchronization

/// Counts what users spend as their answers finish and adds it to the daily roll-up in the database every few
/// seconds, in one statement, and once more at shutdown: recording usage costs a request no database call.
/// Bounded: past ``maxPending`` rows waiting (a database down for long), new usage is dropped and logged, never
/// allowed to grow memory.
final class UsageRecorder: Service, Sendable {
    private struct Row: Hashable {
        let day: String
        let user: UserID
        let key: UUID?
        let model: String
    }

    let store: any AccountStore
    let interval: Duration
    let maxPending: Int
    private let logger: Logger
    private let pending = Mutex<[Row: (requests: Int, prompt: Int, completion: Int)]>([:])

    init(store: any AccountStore, interval: Duration = .seconds(5), maxPending: Int = 50_000, logger: Logger) {
        self.store = store
        self.interval = interval
        self.maxPending = maxPending
        self.logger = logger
    }

    /// Counts one answer's tokens for the user (and the key it came with), on today's row.
    func record(user: UserID, key: UUID?, model: String, usage: TokenUsage, at date: Date = Date()) {
        let row = Row(day: UsageRecord.day(of: date), user: user, key: key, model: String(model.prefix(200)))
        let dropped = pending.withLock { pending -> Bool in
            if pending[row] == nil, pending.count >= maxPending { return true }
            let old = pending[row] ?? (0, 0, 0)
            pending[row] = (old.requests + 1, old.prompt + usage.promptTokens, old.completion + usage.completionTokens)
            return false
        }
        if dropped { logger.warning("usage not recorded: too much waiting for the database", metadata: ["user": "\(user)"]) }
    }

    /// Rows waiting to be written.
    var pendingCount: Int { pending.withLock { $0.count } }

    /// Writes what is waiting; on failure keeps it for the next try.
    func flush() async {
        let taken = pending.withLock { pending in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        guard !taken.isEmpty else { return }
        let records = taken.map { row, counts in
            UsageRecord(day: row.day, userID: row.user, keyID: row.key, model: row.model, requests: counts.requests,
                        promptTokens: counts.prompt, completionTokens: counts.completion)
        }
        do {
            try await store.addUsage(records)
        } catch {
            logger.warning("could not record usage; will retry", metadata: ["rows": "\(records.count)", "error": "\(error)"])
            pending.withLock { pending in
                for (row, counts) in taken {
                    guard pending[row] != nil || pending.count < maxPending else { continue }
                    let now = pending[row] ?? (0, 0, 0)
                    pending[row] = (now.requests + counts.requests, now.prompt + counts.prompt, now.completion + counts.completion)
                }
            }
        }
    }

    /// Flushes every ``interval`` until shutdown, then once more (after the answers still running have finished:
    /// the application stops this service after the generations).
    func run() async throws {
        // The wait between flushes ends at once when shutdown begins; the last flush follows.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.interval)
                await self.flush()
            }
        }
        await flush()
    }
}
