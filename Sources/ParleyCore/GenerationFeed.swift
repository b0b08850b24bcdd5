import Foundation

/// The events of one assistant message, wherever its generation runs.
///
/// A job running in this process is subscribed to directly (replaying what the caller missed). A message
/// that has finished yields a `message` snapshot and its terminal event. A message still `streaming` but not
/// running here (another replica writes it) is followed through the store, which that replica flushes on
/// its flush interval: a snapshot, then deltas as the stored text grows, then the end.
public struct GenerationFeed: Sendable {
    public let hub: GenerationHub
    public let store: any ConversationStore
    public var pollInterval: Duration

    public init(hub: GenerationHub, store: any ConversationStore, pollInterval: Duration = .milliseconds(250)) {
        self.hub = hub
        self.store = store
        self.pollInterval = pollInterval
    }

    /// Throws ``ParleyError/notFound(_:)`` when the message does not exist for this owner.
    public func events(messageID: UUID, owner: UserID, after lastEventID: Int?) async throws -> EventSubscription {
        let message = try await store.message(id: messageID, owner: owner)
        if let job = hub.job(for: messageID) { return job.subscribe(after: lastEventID) }
        guard message.role == .assistant else {
            throw ParleyError.invalid("message \(messageID.lowercased) is a \(message.role.rawValue) message and has no events")
        }
        let firstID = (lastEventID ?? 0) + 1
        if message.status.isFinal {
            return .finished(with: [GenerationEvent(id: firstID, payload: .message(message)),
                                    GenerationEvent(id: firstID + 1, payload: Self.terminal(message))])
        }
        return follow(message, owner: owner, firstID: firstID)
    }

    static func terminal(_ message: Message) -> GenerationEvent.Payload {
        if message.status == .error {
            return .error(kind: "generation_failed", text: message.errorMessage ?? "generation failed", message: message)
        }
        return .done(message)
    }

    private func follow(_ initial: Message, owner: UserID, firstID: Int) -> EventSubscription {
        let subscription = EventSubscription(limit: 64)
        let store = self.store
        let hub = self.hub
        let interval = pollInterval
        let keepAliveEvery = max(1, Int(hub.keepAliveInterval / interval))
        let task = Task {
            var nextID = firstID
            func send(_ payload: GenerationEvent.Payload) {
                subscription.push(GenerationEvent(id: nextID, payload: payload))
                nextID += 1
            }
            send(.message(initial))
            var sent = initial.content
            let idText = initial.id.lowercased
            var polls = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                polls += 1
                if polls % keepAliveEvery == 0 { subscription.keepAlive() }
                if let job = hub.job(for: initial.id) {
                    // The job now runs here (unlikely, but then its own events are exact).
                    let local = job.subscribe()
                    while case .events(let events) = await local.next() {
                        for event in events {
                            if case .message = event.payload { continue }
                            send(event.payload)
                        }
                    }
                    break
                }
                guard let current = try? await store.message(id: initial.id, owner: owner) else { continue }
                if current.content.count > sent.count, current.content.hasPrefix(sent) {
                    send(.delta(messageID: idText, content: String(current.content.dropFirst(sent.count))))
                    sent = current.content
                }
                if current.status.isFinal {
                    send(Self.terminal(current))
                    break
                }
            }
            subscription.end()
        }
        subscription.onCancel { task.cancel() }
        return subscription
    }
}
