import Synchronization

/// Wakes one waiting worker per signal; a signal with nobody waiting is kept for the next wait. A wait also ends
/// after its interval (for work queued on another replica) and when its task is cancelled.
final class WakeSignal: Sendable {
    private struct State {
        var pending = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        /// Waits that ended (timed out) before their continuation was registered.
        var abandoned: Set<Int> = []
        var nextID = 0
    }
    private let state = Mutex(State())

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let id = state.waiters.keys.min() else {
                state.pending += 1
                return nil
            }
            return state.waiters.removeValue(forKey: id)
        }
        waiter?.resume()
    }

    func wait(upTo interval: Duration) async {
        let id: Int? = state.withLock { state in
            if state.pending > 0 {
                state.pending -= 1
                return nil
            }
            defer { state.nextID += 1 }
            return state.nextID
        }
        guard let id else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let resumeNow = self.state.withLock { state -> Bool in
                        if state.abandoned.remove(id) != nil { return true }
                        state.waiters[id] = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
            group.addTask { try? await Task.sleep(for: interval) }
            await group.next()
            end(id)
            group.cancelAll()
        }
    }

    /// Ends the wait `id` if it still waits, or marks it so it does not start.
    private func end(_ id: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            state.abandoned.insert(id)
            return nil
        }
        waiter?.resume()
    }
}
