import Synchronization

/// A bounded queue from one producer task to one consumer task, with backpressure: ``push(_:)`` waits while
/// `capacity` items are queued, so a slow client slows the upstream read instead of growing memory.
final class HandoffQueue<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var head = 0
        var end: Result<Void, any Error>?
        var cancelled = false
        var consumer: CheckedContinuation<Element?, any Error>?
        var producer: CheckedContinuation<Void, Never>?
        var count: Int { items.count - head }
    }

    private enum PushAction { case handedOver(CheckedContinuation<Element?, any Error>), queued, full, gone }
    private enum WaitOutcome { case element(Element?, CheckedContinuation<Void, Never>?), error(any Error), wait }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Queues `element`; waits while the queue is full. False once the consumer has gone away.
    @discardableResult
    func push(_ element: Element) async -> Bool {
        let action = state.withLock { state -> PushAction in
            if state.cancelled { return .gone }
            if let consumer = state.consumer {
                state.consumer = nil
                return .handedOver(consumer)
            }
            state.items.append(element)
            return state.count > capacity ? .full : .queued
        }
        switch action {
        case .handedOver(let consumer):
            consumer.resume(returning: element)
            return true
        case .queued:
            return true
        case .gone:
            return false
        case .full:
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.cancelled || state.count <= capacity { return true }
                    state.producer = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            return state.withLock { !$0.cancelled }
        }
    }

    /// Ends the queue: the consumer gets what is queued, then `nil` or the error.
    func finish(_ error: (any Error)? = nil) {
        let consumer = state.withLock { state -> CheckedContinuation<Element?, any Error>? in
            guard state.end == nil else { return nil }
            state.end = error.map { .failure($0) } ?? .success(())
            defer { state.consumer = nil }
            return state.consumer
        }
        if let error { consumer?.resume(throwing: error) } else { consumer?.resume(returning: nil) }
    }

    /// The next element, `nil` at a clean end; throws the producer's error, or `CancellationError` when the
    /// waiting task is cancelled.
    func next() async throws -> Element? {
        if let ready = try takeReady() { return ready.element }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let outcome = state.withLock { state -> WaitOutcome in
                    if state.count > 0 {
                        let element = Self.removeFirst(&state)
                        defer { state.producer = nil }
                        return .element(element, state.producer)
                    }
                    switch state.end {
                    case .success?: return .element(nil, nil)
                    case .failure(let error)?: return .error(error)
                    case nil: break
                    }
                    if state.cancelled { return .error(CancellationError()) }
                    state.consumer = continuation
                    return .wait
                }
                switch outcome {
                case .element(let element, let producer):
                    producer?.resume()
                    continuation.resume(returning: element)
                case .error(let error): continuation.resume(throwing: error)
                case .wait: break
                }
            }
        } onCancel: {
            cancel()
        }
    }

    /// The consumer is gone: drop what is queued, wake both sides.
    func cancel() {
        let (consumer, producer) = state.withLock { state in
            state.cancelled = true
            state.items.removeAll()
            state.head = 0
            defer { state.consumer = nil; state.producer = nil }
            return (state.consumer, state.producer)
        }
        consumer?.resume(throwing: CancellationError())
        producer?.resume()
    }

    private struct Ready { var element: Element? }

    private func takeReady() throws -> Ready? {
        let (ready, producer) = try state.withLock { state throws -> (Ready?, CheckedContinuation<Void, Never>?) in
            if state.count > 0 {
                let element = Self.removeFirst(&state)
                var producer: CheckedContinuation<Void, Never>?
                if state.count <= capacity {
                    producer = state.producer
                    state.producer = nil
                }
                return (Ready(element: element), producer)
            }
            switch state.end {
            case .success?: return (Ready(element: nil), nil)
            case .failure(let error)?: throw error
            case nil: return (nil, nil)
            }
        }
        producer?.resume()
        return ready
    }

    private static func removeFirst(_ state: inout State) -> Element {
        let element = state.items[state.head]
        state.head += 1
        if state.head > 32 && state.head * 2 > state.items.count {
            state.items.removeFirst(state.head)
            state.head = 0
        }
        return element
    }
}
