import ParleyCore
import Synchronization

/// Enforces the first-token and idle timeouts of one streaming call.
///
/// The stream reader calls ``progress()`` on every event; ``run(_:)`` runs the reader next to a timer that
/// wakes at most once per idle period (not once per token), and ends the call with
/// ``ProviderError/firstTokenTimeout(seconds:)`` or ``ProviderError/idleTimeout(seconds:)``.
public final class StreamWatchdog: Sendable {
    private struct State {
        var deadline: ContinuousClock.Instant
        var sawFirstEvent = false
    }

    private let firstToken: Duration
    private let idle: Duration
    private let state: Mutex<State>

    public init(firstToken: Duration, idle: Duration) {
        self.firstToken = firstToken
        self.idle = idle
        self.state = Mutex(State(deadline: .now + firstToken))
    }

    /// Something arrived from the upstream: push the deadline out by the idle timeout.
    public func progress() {
        let next = ContinuousClock.now + idle
        state.withLock { state in
            state.sawFirstEvent = true
            state.deadline = next
        }
    }

    /// Runs `operation`, failing it with a timeout error when a deadline passes first.
    public func run<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addImmediateTask { try await operation() }
            group.addTask {
                try await self.watch()
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let value = result { return value }
            }
            throw CancellationError()
        }
    }

    private func watch() async throws {
        // Progress can move the deadline earlier (the first event switches from the first-token limit to the
        // idle limit), so never sleep longer than the idle limit before looking again.
        let slice = min(idle, firstToken)
        while true {
            let (deadline, sawFirst) = state.withLock { ($0.deadline, $0.sawFirstEvent) }
            let now = ContinuousClock.now
            if now >= deadline {
                throw sawFirst ? ProviderError.idleTimeout(seconds: idle.secondsValue)
                               : ProviderError.firstTokenTimeout(seconds: firstToken.secondsValue)
            }
            try await Task.sleep(until: min(deadline, now + slice), clock: .continuous)
        }
    }
}
