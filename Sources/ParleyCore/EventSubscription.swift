import Synchronization

/// One subscriber's queue of generation events, read in batches.
///
/// The publisher pushes without waiting; the reader takes everything queued at once, so a busy stream
/// goes out in few writes while an idle one still gets each token as it comes. The queue is bounded: once it
/// holds `limit` events, the text of consecutive deltas is joined into one event (the reader gets all of it, in
/// fewer events), and only a reader that still falls `limit` events behind is ended (it can reattach with its last
/// event id).
public final class EventSubscription: Sendable {
    /// What ``next()`` found.
    public enum Next: Sendable, Equatable {
        case events([GenerationEvent])
        /// Nothing happened for a keep-alive interval; write a comment so proxies keep the stream open.
        case keepAlive
        /// The stream is over: the terminal event was delivered, the reader fell too far behind, or it was cancelled.
        case end
    }

    private struct State {
        var queue: [GenerationEvent] = []
        var ended = false
        var keepAliveDue = false
        /// The reader waiting for events. Unchecked (no object made per wait): it is taken out of the state under
        /// the lock before it is resumed, so it is resumed exactly once.
        var waiter: UnsafeContinuation<Void, Never>?
        var onCancel: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())
    private let limit: Int

    public init(limit: Int = 4096) {
        self.limit = limit
    }

    /// A finished subscription holding `events`.
    public static func finished(with events: [GenerationEvent]) -> EventSubscription {
        let subscription = EventSubscription(limit: max(1, events.count))
        for event in events { _ = subscription.push(event) }
        subscription.end()
        return subscription
    }

    /// Queues an event; returns false (and ends the subscription) when the reader is too far behind.
    @discardableResult
    public func push(_ event: GenerationEvent) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, UnsafeContinuation<Void, Never>?) in
            guard !state.ended else { return (false, nil) }
            if state.queue.count >= limit {
                if state.queue[state.queue.count - 1].absorb(event) { return (true, state.waiter.take()) }
                state.queue = Self.joiningText(state.queue)
            }
            guard state.queue.count < limit else {
                state.ended = true
                state.queue.removeAll()
                return (false, state.waiter.take())
            }
            state.queue.append(event)
            return (true, state.waiter.take())
        }
        waiter?.resume()
        return accepted
    }

    /// The events with each run of text events for the same message joined into one.
    private static func joiningText(_ events: [GenerationEvent]) -> [GenerationEvent] {
        var joined: [GenerationEvent] = []
        joined.reserveCapacity(events.count)
        for event in events {
            if !joined.isEmpty, joined[joined.count - 1].absorb(event) { continue }
            joined.append(event)
        }
        return joined
    }

    /// Ends the stream after what is queued.
    public func end() {
        state.withLock { state in
            state.ended = true
            return state.waiter.take()
        }?.resume()
    }

    /// Asks the reader to send a keep-alive if it has nothing else to send.
    public func keepAlive() {
        state.withLock { state -> UnsafeContinuation<Void, Never>? in
            guard !state.ended, state.queue.isEmpty else { return nil }
            state.keepAliveDue = true
            return state.waiter.take()
        }?.resume()
    }

    /// Runs `handler` once when the reader cancels (used to unregister from the publisher).
    public func onCancel(_ handler: @escaping @Sendable () -> Void) {
        state.withLock { $0.onCancel = handler }
    }

    /// The reader is gone: end the stream and tell the publisher.
    public func cancel() {
        let (handler, waiter) = state.withLock { state in
            state.ended = true
            state.queue.removeAll()
            return (state.onCancel.take(), state.waiter.take())
        }
        waiter?.resume()
        handler?()
    }

    /// Waits for the next batch of events, a keep-alive, or the end. Task cancellation ends the subscription.
    public func next() async -> Next {
        while true {
            let found: Next? = state.withLock { state in
                if !state.queue.isEmpty {
                    let events = state.queue
                    state.queue.removeAll(keepingCapacity: true)
                    state.keepAliveDue = false
                    return .events(events)
                }
                if state.ended { return .end }
                if state.keepAliveDue {
                    state.keepAliveDue = false
                    return .keepAlive
                }
                return nil
            }
            if let found { return found }
            if Task.isCancelled {
                cancel()
                return .end
            }
            await withTaskCancellationHandler {
                await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if !state.queue.isEmpty || state.ended || state.keepAliveDue { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                self.cancel()
            }
        }
    }

    /// Every remaining event until the end (for tests and small consumers).
    public func collect() async -> [GenerationEvent] {
        var all: [GenerationEvent] = []
        while true {
            switch await next() {
            case .events(let events): all += events
            case .keepAlive: continue
            case .end: return all
            }
        }
    }
}
