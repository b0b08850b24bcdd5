import CoreMetrics
import Foundation
import Synchronization

/// Hands incoming ``BusNotice``s to whoever in this process waits for them: followers watching one message,
/// the hub for stop requests, and the accounts for sign-in changes.
public final class NoticeBoard: Sendable {
    private struct State {
        var watches: [UUID: [Int: NoticeWatch]] = [:]
        var nextWatchID = 0
        var stopHandler: (@Sendable (UUID) -> Void)?
        var accountHandlers: [@Sendable (UserID, SignOutScope) -> Void] = []
    }
    private let state = Mutex(State())

    public init() {}

    /// Called with the message id of every `stop` notice.
    public func onStop(_ handler: @escaping @Sendable (UUID) -> Void) {
        state.withLock { $0.stopHandler = handler }
    }

    /// Called with every `account` notice.
    public func onAccountChange(_ handler: @escaping @Sendable (UserID, SignOutScope) -> Void) {
        state.withLock { $0.accountHandlers.append(handler) }
    }

    /// Starts collecting the notices about one message. Cancel the watch when done with it.
    public func watch(_ messageID: UUID) -> NoticeWatch {
        state.withLock { state in
            let id = state.nextWatchID
            state.nextWatchID += 1
            let watch = NoticeWatch { [weak self] in
                self?.state.withLock { state in
                    state.watches[messageID]?.removeValue(forKey: id)
                    if state.watches[messageID]?.isEmpty == true { state.watches.removeValue(forKey: messageID) }
                }
            }
            state.watches[messageID, default: [:]][id] = watch
            return watch
        }
    }

    /// The number of messages watched now.
    public var watchedCount: Int { state.withLock { $0.watches.count } }

    private static let received = Counter(label: MetricName.busNotices)

    public func deliver(_ notices: [BusNotice]) {
        Self.received.increment(by: notices.count)
        var stops: [UUID] = []
        var accounts: [(UserID, SignOutScope)] = []
        var handler: (@Sendable (UUID) -> Void)?
        var accountHandlers: [@Sendable (UserID, SignOutScope) -> Void] = []
        state.withLock { state in
            handler = state.stopHandler
            accountHandlers = state.accountHandlers
            for notice in notices {
                switch notice {
                case .stop(let id): stops.append(id)
                case .account(let user, let ends): accounts.append((user, ends))
                default: break
                }
                guard let id = notice.messageID else { continue }
                for watch in state.watches[id]?.values ?? [:].values { watch.add(notice) }
            }
        }
        if let handler { for id in stops { handler(id) } }
        for (user, ends) in accounts { for handle in accountHandlers { handle(user, ends) } }
    }
}

/// The notices about one message, collected until taken with ``next(timeout:)``. Holds at most a bounded
/// number; when more arrive before they are taken, the oldest give way to a ``BusNotice/changed(messageID:)``
/// so the follower reads the store instead.
public final class NoticeWatch: Sendable {
    private struct State {
        var pending: [BusNotice] = []
        var waiter: CheckedContinuation<[BusNotice], Never>?
        var waiterID = 0
        var cancelled = false
    }
    static let pendingLimit = 256
    private let state = Mutex(State())
    private let onCancel: @Sendable () -> Void

    init(onCancel: @escaping @Sendable () -> Void) {
        self.onCancel = onCancel
    }

    func add(_ notice: BusNotice) {
        let waiter = state.withLock { state -> CheckedContinuation<[BusNotice], Never>? in
            guard !state.cancelled else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                state.waiterID += 1
                return waiter
            }
            if state.pending.count >= Self.pendingLimit {
                state.pending = notice.messageID.map { [.changed(messageID: $0)] } ?? []
            }
            state.pending.append(notice)
            return nil
        }
        waiter?.resume(returning: [notice])
    }

    /// The notices that arrived since the last call, waiting up to `timeout` for one; empty on timeout or
    /// cancellation.
    public func next(timeout: Duration) async -> [BusNotice] {
        let ready = state.withLock { state -> [BusNotice]? in
            guard !state.pending.isEmpty else { return nil }
            defer { state.pending.removeAll() }
            return state.pending
        }
        if let ready { return ready }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let waiterID = state.withLock { state -> Int? in
                    guard !state.cancelled, !Task.isCancelled else { return nil }
                    if !state.pending.isEmpty { return nil }
                    state.waiter = continuation
                    return state.waiterID
                }
                guard let waiterID else {
                    let pending = state.withLock { state in
                        defer { state.pending.removeAll() }
                        return state.pending
                    }
                    continuation.resume(returning: pending)
                    return
                }
                Task { [weak self] in
                    try? await Task.sleep(for: timeout)
                    self?.resumeWaiter(ifStill: waiterID)
                }
            }
        } onCancel: {
            resumeWaiter(ifStill: nil)
        }
    }

    private func resumeWaiter(ifStill waiterID: Int?) {
        let waiter = state.withLock { state -> CheckedContinuation<[BusNotice], Never>? in
            guard let waiter = state.waiter, waiterID == nil || waiterID == state.waiterID else { return nil }
            state.waiter = nil
            state.waiterID += 1
            return waiter
        }
        waiter?.resume(returning: [])
    }

    /// Stops collecting and wakes a waiting ``next(timeout:)``.
    public func cancel() {
        state.withLock { $0.cancelled = true }
        resumeWaiter(ifStill: nil)
        onCancel()
    }
}
