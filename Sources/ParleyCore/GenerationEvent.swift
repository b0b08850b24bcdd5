/// One event of a generation job, as subscribers receive it. Ids start at 1 and increase by one, so a
/// subscriber that reconnects with the last id it saw gets exactly what it missed.
public struct GenerationEvent: Sendable, Equatable {
    /// The cases that carry a whole message are `indirect` (boxed): an event is copied several times on its way to
    /// each reader, and with a message stored inline every copy of every token's event would copy a message's size.
    public enum Payload: Sendable, Equatable {
        /// A message of the turn: the user message, then the assistant message. On a reattach whose missed
        /// events are no longer buffered, a snapshot of the assistant message with all text so far.
        indirect case message(Message)
        /// The next piece of the assistant's text.
        case delta(messageID: UUIDString, content: String)
        /// The next piece of the assistant's reasoning (from a reasoning model), shown apart from the answer.
        case reasoning(messageID: UUIDString, content: String)
        case usage(messageID: UUIDString, TokenUsage)
        /// The final assistant message (status `complete`, `cancelled` or `interrupted`). Last event.
        indirect case done(Message)
        /// The generation failed; the message carries status `error` and the partial text. Last event.
        indirect case error(kind: String, text: String, message: Message)
    }

    public var id: Int
    public var payload: Payload

    public init(id: Int, payload: Payload) {
        self.id = id
        self.payload = payload
    }

    /// The SSE event name.
    public var name: String { nameLiteral.description }

    /// The event's name as a literal, for writers that copy its bytes without making a string.
    public var nameLiteral: StaticString {
        switch payload {
        case .message: return "message"
        case .delta: return "delta"
        case .reasoning: return "reasoning"
        case .usage: return "usage"
        case .done: return "done"
        case .error: return "error"
        }
    }

    /// Takes a later event into this one when both carry text of the same kind for the same message: the text is
    /// appended and the id becomes the later one's, so a reader that reattaches after it has missed nothing.
    /// False (and nothing changed) for any other pair.
    mutating func absorb(_ later: GenerationEvent) -> Bool {
        switch later.payload {
        case .delta(let laterID, let more):
            guard case .delta(let messageID, var text) = payload, messageID == laterID else { return false }
            payload = .delta(messageID: messageID, content: "")  // `text` is now the only reference: appended in place
            text += more
            payload = .delta(messageID: messageID, content: text)
        case .reasoning(let laterID, let more):
            guard case .reasoning(let messageID, var text) = payload, messageID == laterID else { return false }
            payload = .reasoning(messageID: messageID, content: "")
            text += more
            payload = .reasoning(messageID: messageID, content: text)
        default:
            return false
        }
        id = later.id
        return true
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
