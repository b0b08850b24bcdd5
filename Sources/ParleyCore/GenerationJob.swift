import Foundation
import Synchronization

/// Why a job was told to stop.
public enum StopReason: Sendable, Equatable {
    /// A user asked for it (`POST /messages/{id}/stop`): the message ends `cancelled`.
    case userRequest
    /// The server is shutting down: the message ends `interrupted`.
    case shutdown
    /// The store shows the message already ended (stopped through another replica, or reaped after this
    /// replica lost its lease): the message keeps that status, with all the text generated here.
    case endedElsewhere(MessageStatus)
}

/// A running generation: the assistant's text so far, a bounded buffer of recent events for reattaching
/// subscribers, and the live subscribers themselves. The job is owned by ``GenerationHub``, not by any
/// HTTP request, so a subscriber that goes away does not affect it.
public final class GenerationJob: Sendable {
    public let userMessage: Message
    public let assistantMessage: Message
    public var messageID: UUID { assistantMessage.id }
    public var conversationID: UUID { assistantMessage.conversationID }
    /// The id as text, made once for the per-token events.
    let messageIDString: UUIDString

    private let bufferLimit: Int
    private let state: Mutex<State>
    /// UTF-8 bytes of stored text already announced to other replicas.
    private let announcedBytes: Mutex<Int>
    private let completion = Mutex<Task<Void, Never>?>(nil)
    private let finalMessage = Mutex<Message?>(nil)

    /// When the job was made; the moments below are kept as durations since it. (`ContinuousClock.Instant` is
    /// not of fixed layout outside the standard library: each optional one was copied and tested through generic
    /// code, several times per token.)
    private let origin = ContinuousClock.now

    private struct State: @unchecked Sendable {
        var buffer: [GenerationEvent] = []
        var nextID = 1
        var content = ""
        var reasoning = ""
        var reasoningStartedAt: Duration?
        var reasoningEndedAt: Duration?
        var dirty = false
        var finished = false
        var firstTokenAt: Duration?
        var stopReason: StopReason?
        var subscribers: [Int: EventSubscription] = [:]
        var nextSubscriberID = 0
    }

    init(user: Message, assistant: Message, bufferLimit: Int) {
        self.userMessage = user
        self.assistantMessage = assistant
        self.messageIDString = assistant.id.lowercased
        self.bufferLimit = max(16, bufferLimit)
        // An answer being continued starts from its stored text and reasoning, already known to other replicas.
        var state = State()
        state.content = assistant.content
        state.reasoning = assistant.reasoning ?? ""
        self.state = Mutex(state)
        self.announcedBytes = Mutex(assistant.content.utf8.count)
    }

    /// True when this job continues an answer that already had text (``ChatService/continueAnswer(owner:messageID:)``).
    public var isContinuation: Bool { !assistantMessage.content.isEmpty }

    // MARK: - Reading

    /// The assistant's text so far.
    public var content: String { state.withLock { $0.content } }
    /// The reasoning so far (empty for a model that streams none).
    public var reasoning: String { state.withLock { $0.reasoning } }
    /// Milliseconds from the first piece of reasoning to the first piece of answer (or to now, or to the end
    /// when no answer followed); nil when the model streamed no reasoning.
    func reasoningMilliseconds(until end: ContinuousClock.Instant = .now) -> Int? {
        state.withLock { state in
            guard let start = state.reasoningStartedAt else { return nil }
            return Int(((state.reasoningEndedAt ?? (end - origin)) - start).wholeMilliseconds)
        }
    }
    public var isFinished: Bool { state.withLock { $0.finished } }
    public var stopReason: StopReason? { state.withLock { $0.stopReason } }
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }
    var firstTokenAt: ContinuousClock.Instant? { state.withLock { $0.firstTokenAt }.map { origin + $0 } }

    /// Subscribes to the job's events after `lastEventID` (all buffered events when `nil`), then live ones.
    ///
    /// When the events after `lastEventID` are no longer buffered, the stream starts with a `message`
    /// snapshot of the assistant message holding all text so far. The stream ends after the terminal event,
    /// A subscriber more than twice the buffer size behind gets the text it missed joined into fewer deltas, and is
    /// ended early (it can then reattach) only when it falls that far behind on events that cannot be joined.
    public func subscribe(after lastEventID: Int? = nil) -> EventSubscription {
        let subscription = EventSubscription(limit: bufferLimit * 2 + 8)
        let finished: Bool = state.withLock { state in
            let after = GenerationFeed.checkedEventID(lastEventID)
            let firstBuffered = state.buffer.first?.id ?? state.nextID
            if after + 1 < firstBuffered || after >= state.nextID {
                // The missed events are gone, or the id is not one of this job's (a follower's on another
                // replica): send all text so far as one snapshot, then (if the job has ended) its terminal
                // event, and go live from there.
                let terminal = state.finished ? state.buffer.last : nil
                var snapshot = assistantMessage
                snapshot.content = state.content
                if !state.reasoning.isEmpty { snapshot.reasoning = state.reasoning }
                let snapshotID = state.nextID - 1 - (terminal == nil ? 0 : 1)
                subscription.push(GenerationEvent(id: snapshotID, payload: .message(snapshot)))
                if let terminal { subscription.push(terminal) }
            } else {
                for event in state.buffer where event.id > after { subscription.push(event) }
            }
            if state.finished { return true }
            let subscriberID = state.nextSubscriberID
            state.nextSubscriberID += 1
            state.subscribers[subscriberID] = subscription
            subscription.onCancel { [weak self] in
                self?.state.withLock { _ = $0.subscribers.removeValue(forKey: subscriberID) }
            }
            return false
        }
        if finished { subscription.end() }
        return subscription
    }

    /// Asks idle subscribers to send a keep-alive.
    func keepAlive() {
        for subscription in state.withLock({ Array($0.subscribers.values) }) { subscription.keepAlive() }
    }

    /// Waits until the job has stored its final state and sent its last event.
    public func waitUntilFinished() async {
        await completion.withLock { $0 }?.value
    }

    /// The assistant message as the job left it (text, status, usage); nil until it has finished.
    public var finished: Message? { finalMessage.withLock { $0 } }

    // MARK: - Writing (used by the hub)

    func attach(task: Task<Void, Never>) {
        completion.withLock { $0 = task }
        // The task ran up to its first wait before it could be attached: a stop asked for meanwhile still cancels it.
        if stopReason != nil { task.cancel() }
    }

    /// Records the stop reason (the first one wins) and returns whether this call set it.
    func requestStop(_ reason: StopReason) -> Bool {
        let changed = state.withLock { state -> Bool in
            guard !state.finished, state.stopReason == nil else { return false }
            state.stopReason = reason
            return true
        }
        if changed { completion.withLock { $0 }?.cancel() }
        return changed
    }

    func append(_ delta: AnswerDelta) {
        switch delta {
        case .text(let text): appendDelta(text)
        case .reasoning(let text): appendReasoning(text)
        }
    }

    func appendDelta(_ rawText: String) {
        guard !rawText.isEmpty else { return }
        let text = Self.storable(rawText)
        let now = ContinuousClock.now - origin
        publish { state in
            if state.firstTokenAt == nil { state.firstTokenAt = now }
            if state.reasoningStartedAt != nil, state.reasoningEndedAt == nil { state.reasoningEndedAt = now }
            state.content += text
            state.dirty = true
            return .delta(messageID: self.messageIDString, content: text)
        }
    }

    /// Adds reasoning; it counts as the first token (the model has started answering) but not as answer text.
    func appendReasoning(_ rawText: String) {
        guard !rawText.isEmpty else { return }
        let text = Self.storable(rawText)
        let now = ContinuousClock.now - origin
        publish { state in
            if state.firstTokenAt == nil { state.firstTokenAt = now }
            if state.reasoningStartedAt == nil { state.reasoningStartedAt = now }
            state.reasoning += text
            state.dirty = true
            return .reasoning(messageID: self.messageIDString, content: text)
        }
    }

    /// NUL cannot be stored as text by every database; it never carries meaning in chat output.
    private static func storable(_ text: String) -> String {
        // Looked for as a byte: UTF-8 has a 0 byte only for NUL (Foundation's `contains` would cost thousands of
        // instructions per token, iterating the UTF-8 view a few hundred).
        let hasNUL = text.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.baseAddress.map { memchr($0, 0, bytes.count) != nil } ?? false
        } ?? text.utf8.contains(0)
        return hasNUL ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
    }

    func publish(_ payload: GenerationEvent.Payload) {
        publish { _ in payload }
    }

    /// Publishes the terminal event and ends every subscription.
    func finish(with payload: GenerationEvent.Payload) {
        switch payload {
        case .done(let message), .error(_, _, let message): finalMessage.withLock { $0 = message }
        default: break
        }
        publish(terminal: true) { _ in payload }
    }

    /// Takes the text and reasoning if either changed since the last call, for the periodic flush.
    func takeDirtyContent() -> PartialAnswer? {
        state.withLock { state in
            guard state.dirty, !state.finished else { return nil }
            state.dirty = false
            return PartialAnswer(id: messageID, content: state.content, reasoning: state.reasoning.isEmpty ? nil : state.reasoning)
        }
    }

    func markDirty() {
        state.withLock { $0.dirty = true }
    }

    /// The notice announcing what `stored` (the text just saved) adds to the text announced before.
    func progressNotice(stored: String) -> BusNotice {
        announcedBytes.withLock { announced in
            let bytes = stored.utf8
            let start = min(announced, bytes.count)
            announced = bytes.count
            return .progress(messageID: messageID, offset: start,
                             text: String(decoding: bytes.dropFirst(start), as: UTF8.self))
        }
    }

    private func publish(terminal: Bool = false, _ make: (inout State) -> GenerationEvent.Payload) {
        state.withLock { state in
            guard !state.finished else { return }
            let event = GenerationEvent(id: state.nextID, payload: make(&state))
            state.nextID += 1
            state.buffer.append(event)
            if state.buffer.count > bufferLimit {
                state.buffer.removeFirst(state.buffer.count - bufferLimit / 2)
            }
            for (key, subscription) in state.subscribers where !subscription.push(event) {
                state.subscribers.removeValue(forKey: key)
            }
            guard terminal else { return }
            state.finished = true
            for subscription in state.subscribers.values { subscription.end() }
            state.subscribers.removeAll()
        }
    }
}
