import Foundation
import ParleyClient
import Synchronization

/// Keys from standard input, read on a thread of their own (a blocking read must not hold one of the few
/// threads Swift's concurrency runs on) and queued until the chat takes them. Reading pauses while another
/// program (`$EDITOR`) has the terminal.
final class KeyboardInput: Sendable {
    private struct State {
        var keys: [Key] = []
        var waiter: (id: UInt64, match: @Sendable (Key) -> Bool, continuation: CheckedContinuation<Key?, Never>)?
        var nextWaiter: UInt64 = 0
        var closed = false
        var paused = false
    }

    private let state = Mutex(State())

    init() {}

    /// Starts the reading thread.
    func start() {
        let thread = Thread { [self] in readLoop() }
        thread.name = "parley-keyboard"
        thread.start()
    }

    private func readLoop() {
        var decoder = KeyDecoder()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 100)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            // Read only while nobody else has the terminal; the lock makes pausing wait for a read under way.
            let count: Int = state.withLock { state in
                state.paused ? -2 : buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            }
            if count == -2 {
                Thread.sleep(forTimeInterval: 0.05)
                continue
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return close() }
            deliver(decoder.feed(buffer[..<count]))
        }
    }

    private func deliver(_ keys: [Key]) {
        guard !keys.isEmpty else { return }
        let resumed: (CheckedContinuation<Key?, Never>, Key)? = state.withLock { state in
            state.keys += keys
            guard let waiter = state.waiter, let index = state.keys.firstIndex(where: waiter.match) else { return nil }
            state.waiter = nil
            return (waiter.continuation, state.keys.remove(at: index))
        }
        if let (continuation, key) = resumed { continuation.resume(returning: key) }
    }

    private func close() {
        let waiter = state.withLock { state in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.continuation.resume(returning: nil)
    }

    /// The next key (nil at the end of input, or when the calling task is cancelled).
    func next() async -> Key? {
        await next { _ in true }
    }

    /// The first key waiting, or coming, that `match`es; other keys stay queued, in order.
    func next(where match: @escaping @Sendable (Key) -> Bool) async -> Key? {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Key?, Never>) in
                let immediate: Key?? = state.withLock { state in
                    if let index = state.keys.firstIndex(where: match) { return .some(state.keys.remove(at: index)) }
                    if state.closed || Task.isCancelled { return .some(nil) }
                    state.waiter = (id, match, continuation)
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Key?, Never>? in
                guard let waiter = state.waiter, waiter.id == id else { return nil }
                state.waiter = nil
                return waiter.continuation
            }
            waiter?.resume(returning: nil)
        }
    }

    /// Stops reading while `body` runs (another program reads the terminal).
    func paused<T>(_ body: () async throws -> T) async rethrows -> T {
        state.withLock { $0.paused = true }
        defer { state.withLock { $0.paused = false } }
        return try await body()
    }
}
