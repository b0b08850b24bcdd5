import Foundation

/// The events of one assistant message, and stopping it, wherever its generation runs.
///
/// A job running in this process is subscribed to directly (replaying what the caller missed). A message
/// that has finished yields a `message` snapshot and its terminal event. A message still `streaming` but not
/// running here (another replica writes it) is followed through the event bus — progress notices carry the
/// text that replica just stored — and the store, which is read again whenever a notice cannot be applied,
/// and every `pollInterval` when no notice comes (a lost notice, or a bus that does not span replicas).
public struct GenerationFeed: Sendable {
    public let hub: GenerationHub
    public let store: any ConversationStore
    public var pollInterval: Duration
    /// How long a stop waits for the replica running the generation before ending it in the store itself.
    public var remoteStopWait: Duration

    public init(hub: GenerationHub, store: any ConversationStore, pollInterval: Duration = .milliseconds(250),
                remoteStopWait: Duration = .seconds(3)) {
        self.hub = hub
        self.store = store
        self.pollInterval = pollInterval
        self.remoteStopWait = remoteStopWait
    }

    /// Throws ``ParleyError/notFound(_:)`` when the message does not exist for this owner.
    public func events(messageID: UUID, owner: UserID, after lastEventID: Int?) async throws -> EventSubscription {
        let message = try await store.message(id: messageID, owner: owner)
        if let job = hub.job(for: messageID) { return job.subscribe(after: lastEventID) }
        guard message.role == .assistant else {
            throw ParleyError.invalid("message \(messageID.lowercased) is a \(message.role.rawValue) message and has no events")
        }
        let firstID = Self.checkedEventID(lastEventID) + 1
        if message.status.isFinal {
            return .finished(with: [GenerationEvent(id: firstID, payload: .message(message)),
                                    GenerationEvent(id: firstID + 1, payload: Self.terminal(message))])
        }
        return follow(message, owner: owner, firstID: max(firstID, Self.followerIDs))
    }

    /// Stops the generation of an assistant message and returns the message as stored. When it runs on
    /// another replica, that replica is asked through the bus; if it does not end the message within
    /// ``remoteStopWait``, the message is ended here as `cancelled` with the text stored so far. Stopping a
    /// finished message returns it unchanged.
    public func stop(messageID: UUID, owner: UserID) async throws -> Message {
        let message = try await store.message(id: messageID, owner: owner)
        guard message.role == .assistant else { throw ParleyError.invalid("only assistant messages can be stopped") }
        guard message.status == .streaming else { return message }
        if await hub.stop(messageID: messageID) { return try await store.message(id: messageID, owner: owner) }

        let watch = hub.board.watch(messageID)
        defer { watch.cancel() }
        await hub.bus.publish([.stop(messageID: messageID)])
        let deadline = ContinuousClock.now + remoteStopWait
        while ContinuousClock.now < deadline {
            _ = await watch.next(timeout: min(pollInterval, deadline - .now))
            let current = try await store.message(id: messageID, owner: owner)
            if current.status.isFinal { return current }
        }
        if try await store.endStreaming(id: messageID, status: .cancelled, errorMessage: nil) {
            await hub.bus.publish([.finished(messageID: messageID)])
        }
        return try await store.message(id: messageID, owner: owner)
    }

    /// Where the ids of an answer followed from another replica start. The replica generating an answer numbers
    /// its events 1, 2, 3…; a follower elsewhere sees the text in coarser steps and cannot know those numbers, so
    /// its ids are of another range. A client that reattaches with a follower's id to the generating replica (its
    /// first replica shut down, say) is then never taken for one that saw that replica's own event of the same
    /// number: it gets a snapshot of all text so far, and nothing is sent twice or skipped.
    public static let followerIDs = 1 << 30

    /// A client's `Last-Event-ID` within the ids an event can have, so the ids counted on from it cannot overflow.
    public static func checkedEventID(_ lastEventID: Int?) -> Int {
        CheckedNumber.clamped(lastEventID ?? 0, to: 0...CheckedNumber.wholeLimit)
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
        // With a bus that spans replicas, notices carry the text and the store is only a safety net.
        let readEvery = hub.bus.reachesOtherReplicas ? max(pollInterval, .seconds(1)) : pollInterval
        let watch = hub.board.watch(initial.id)
        let task = Task {
            var follower = Follower(subscription: subscription, messageID: initial.id, nextID: firstID,
                                    sent: initial.content)
            subscription.push(GenerationEvent(id: follower.nextID, payload: .message(initial)))
            follower.nextID += 1
            var lastKeepAlive = ContinuousClock.now
            var lastRead = ContinuousClock.now
            while !Task.isCancelled {
                let notices = await watch.next(timeout: readEvery)
                if ContinuousClock.now - lastKeepAlive >= hub.keepAliveInterval {
                    lastKeepAlive = .now
                    subscription.keepAlive()
                }
                if let job = hub.job(for: initial.id) {
                    // The job now runs here (unlikely, but then its own events are exact).
                    await follower.forward(job.subscribe())
                    break
                }
                var mustRead = ContinuousClock.now - lastRead >= readEvery
                for notice in notices {
                    switch notice {
                    case .progress(_, let offset, let text):
                        if !follower.apply(offset: offset, text: text) { mustRead = true }
                    case .changed, .finished:
                        mustRead = true
                    case .stop, .account:
                        break
                    }
                }
                guard mustRead else { continue }
                lastRead = .now
                guard let current = try? await store.message(id: initial.id, owner: owner) else { continue }
                follower.catchUp(to: current.content)
                if current.status.isFinal {
                    follower.send(Self.terminal(current))
                    break
                }
            }
            watch.cancel()
            subscription.end()
        }
        subscription.onCancel {
            task.cancel()
            watch.cancel()
        }
        return subscription
    }
}

/// The state of one subscriber following a message generated elsewhere: the text it has been sent so far.
private struct Follower {
    let subscription: EventSubscription
    let messageID: UUID
    var nextID: Int
    var sent: String

    mutating func send(_ payload: GenerationEvent.Payload) {
        subscription.push(GenerationEvent(id: nextID, payload: payload))
        nextID += 1
    }

    /// Applies a progress notice; false when it does not continue the text sent so far.
    mutating func apply(offset: Int, text: String) -> Bool {
        let sentBytes = sent.utf8.count
        if offset + text.utf8.count <= sentBytes { return true }  // Already sent (the snapshot had it).
        guard offset == sentBytes else { return false }
        sent += text
        send(.delta(messageID: messageID.lowercased, content: text))
        return true
    }

    /// Sends what the stored text adds to the text sent so far.
    mutating func catchUp(to stored: String) {
        guard stored.utf8.count > sent.utf8.count, stored.hasPrefix(sent) else { return }
        let added = String(decoding: stored.utf8.dropFirst(sent.utf8.count), as: UTF8.self)
        sent = stored
        send(.delta(messageID: messageID.lowercased, content: added))
    }

    /// Forwards the events of a job that now runs in this process, after the text already sent.
    mutating func forward(_ local: EventSubscription) async {
        while case .events(let events) = await local.next() {
            for event in events {
                switch event.payload {
                case .message(let message):
                    catchUp(to: message.content)
                case .delta(_, let text):
                    sent += text
                    send(event.payload)
                default:
                    send(event.payload)
                }
            }
        }
    }
}
