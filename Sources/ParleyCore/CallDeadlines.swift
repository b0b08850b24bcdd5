import Foundation
import Synchronization

/// Deadlines for many short calls at little cost: each call runs in a task of its own while the caller waits
/// on a continuation, and one shared ticker (running only while calls are pending) fails the calls whose time
/// is up — rather than a timer task per call.
public final class CallDeadlines: Sendable {
    /// The instance behind ``withDeadline(_:_:)``.
    public static let shared = CallDeadlines()

    private struct Pending {
        var deadline: ContinuousClock.Instant
        var expire: @Sendable () -> Void
    }
    private struct State {
        var pending: [Int: Pending] = [:]
        var nextID = 0
        var ticking = false
    }
    private let state = Mutex(State())
    /// How often the ticker looks for calls past their deadline; a call may overrun by up to this much.
    public let resolution: Duration

    public init(resolution: Duration = .milliseconds(50)) {
        self.resolution = resolution
    }

    /// Runs `operation` and returns its result, or throws ``DeadlineExceeded`` once `limit` has passed (the
    /// operation is then cancelled and left to end on its own). Cancelling the caller cancels the operation.
    public func run<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> T)
        async throws -> T
    {
        let call = PendingCall<T>()
        return try await withTaskCancellationHandler {
            // Unchecked: `PendingCall.finish` takes the continuation under its lock, so it is resumed exactly once
            // (a checked one is an object of its own per call, checked again at every resume).
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<T, any Error>) in
                call.continuation.withLock { $0 = continuation }
                let id = register(deadline: .now + limit) {
                    call.work.withLock { $0 }?.cancel()
                    call.finish(.failure(DeadlineExceeded(limit: limit)))
                }
                // Started on this thread, up to the operation's first wait: the call's own task costs no hand-off.
                let work = Task.immediate {
                    let result: Result<T, any Error>
                    do { result = .success(try await operation()) } catch { result = .failure(error) }
                    self.unregister(id)
                    call.finish(result)
                }
                call.work.withLock { $0 = work }
            }
        } onCancel: {
            call.work.withLock { $0 }?.cancel()
        }
    }

    private func register(deadline: ContinuousClock.Instant, expire: @escaping @Sendable () -> Void) -> Int {
        let (id, startTicker) = state.withLock { state -> (Int, Bool) in
            let id = state.nextID
            state.nextID += 1
            state.pending[id] = Pending(deadline: deadline, expire: expire)
            let startTicker = !state.ticking
            state.ticking = true
            return (id, startTicker)
        }
        if startTicker { Task { await self.tick() } }
        return id
    }

    private func unregister(_ id: Int) {
        _ = state.withLock { $0.pending.removeValue(forKey: id) }
    }

    /// Expires overdue calls every ``resolution`` until none is pending.
    private func tick() async {
        while true {
            try? await Task.sleep(for: resolution)
            let now = ContinuousClock.now
            let (expired, keepTicking) = state.withLock { state -> ([Pending], Bool) in
                let overdue = state.pending.filter { $0.value.deadline <= now }
                for id in overdue.keys { state.pending.removeValue(forKey: id) }
                if state.pending.isEmpty { state.ticking = false }
                return (Array(overdue.values), !state.pending.isEmpty)
            }
            for call in expired { call.expire() }
            if !keepTicking { return }
        }
    }
}

/// One call's continuation (resumed exactly once) and its work task.
private final class PendingCall<T: Sendable>: Sendable {
    let continuation = Mutex<UnsafeContinuation<T, any Error>?>(nil)
    let work = Mutex<Task<Void, Never>?>(nil)

    func finish(_ result: Result<T, any Error>) {
        continuation.withLock { $0.take() }?.resume(with: result)
    }
}
