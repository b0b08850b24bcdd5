/// One event of a generation job, as subscribers receive it. Ids start at 1 and increase by one, so a
/// subscriber that reconnects with the last id it saw gets exactly what it missed.
public struct GenerationEvent: Sendable, Equatable {
    public enum Payload: Sendable, Equatable {
        /// A message of the turn: the user message, then the assistant message. On a reattach whose missed
        /// events are no longer buffered, a snapshot of the assistant message with all text so far.
        case message(Message)
        /// The next piece of the assistant's text.
        case delta(messageID: UUIDString, content: String)
        /// The next piece of the assistant's reasoning (from a reasoning model), shown apart from the answer.
        case reasoning(messageID: UUIDString, content: String)
        case usage(messageID: UUIDString, TokenUsage)
        /// The final assistant message (status `complete`, `cancelled` or `interrupted`). Last event.
        case done(Message)
        /// The generation failed; the message carries status `error` and the partial text. Last event.
        case error(kind: String, text: String, message: Message)
    }

    public var id: Int
    public var payload: Payload

    public init(id: Int, payload: Payload) {
        self.id = id
        self.payload = payload
    }

    /// The SSE event name.
    public var name: String {
        switch payload {
        case .message: return "message"
        case .delta: return "delta"
        case .reasoning: return "reasoning"
        case .usage: return "usage"
        case .done: return "done"
        case .error: return "error"
        }
    }

    public var isTerminal: Bool {
        switch payload {
        case .done, .error: return true
        default: return false
        }
    }
}

/// A UUID already rendered as lowercase text, so per-token events do not format it again.
public typealias UUIDString = String
