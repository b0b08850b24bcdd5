import Foundation
import Synchronization

/// Thrown by ``withDeadline(_:_:)`` when the operation takes longer than allowed.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    public let limit: Duration
    public var description: String { "no answer within \(limit)" }
}

/// Runs `operation` and returns its result, or throws ``DeadlineExceeded`` once `limit` has passed — even if
/// the operation ignores cancellation (it is cancelled and left to end on its own). Cancelling the caller
/// cancels the operation.
public func withDeadline<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> T)
    async throws -> T
{
    let race = DeadlineRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            race.start(continuation, limit: limit, operation)
        }
    } onCancel: {
        race.cancelWork()
    }
}

/// The shared state of one ``withDeadline(_:_:)``: whichever of the work and the timer ends first resumes.
private final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var work: Task<Void, Never>?
        var cancelled = false
    }
    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<T, any Error>, limit: Duration,
               _ operation: @escaping @Sendable () async throws -> T) {
        state.withLock { $0.continuation = continuation }
        let timer = Task {
            try? await Task.sleep(for: limit)
            guard !Task.isCancelled else { return }
            self.cancelWork()
            self.finish(.failure(DeadlineExceeded(limit: limit)))
        }
        let work = Task {
            let result: Result<T, any Error>
            do { result = .success(try await operation()) } catch { result = .failure(error) }
            timer.cancel()
            self.finish(result)
        }
        let cancelNow = state.withLock { state in
            state.work = work
            return state.cancelled
        }
        if cancelNow { work.cancel() }
    }

    func cancelWork() {
        let work = state.withLock { state in
            state.cancelled = true
            return state.work
        }
        work?.cancel()
    }

    private func finish(_ result: Result<T, any Error>) {
        state.withLock { $0.continuation.take() }?.resume(with: result)
    }
}
