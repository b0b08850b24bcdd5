import NIOCore
import ParleyCore

/// What one chunk of a streamed answer says, read once, where the chunk is made.
public enum StreamEvent: Sendable, Equatable {
    /// A piece of the answer's text.
    case text(String)
    /// A piece of the model's reasoning (`reasoning_content`, or `reasoning`, in the chunk's delta).
    case reasoning(String)
    /// A piece of a tool call: its position, and the id and name with its first piece, then its arguments' text.
    case toolCall(index: Int, id: String?, name: String?, arguments: String)
    /// The token counts of the whole answer.
    case usage(TokenUsage)
    /// Why the answer ended (`stop`, `length`, `tool_calls`…).
    case finish(reason: String)
}

/// One chunk of a streamed answer as a backend yields it: an OpenAI `chat.completion.chunk` object's bytes,
/// which `/v1` forwards as they are (byte for byte what an OpenAI-compatible upstream sent), and its
/// ``StreamEvent``s, which the chat UI's generations read. The backend reads or writes each chunk once;
/// nobody parses it again.
public struct StreamChunk: Sendable {
    /// The chunk's JSON as it was made or read: kept as read from an upstream's event until someone asks for a
    /// buffer (a chat turn reads only the events, and `/v1` writes the bytes straight into its response).
    private enum Storage: Sendable {
        case buffer(ByteBuffer)
        case array([UInt8])
    }

    private var storage: Storage
    public var events: [StreamEvent]

    /// The chunk object's JSON, without the `data: ` framing.
    public var bytes: ByteBuffer {
        get {
            switch storage {
            case .buffer(let buffer): buffer
            case .array(let array): ByteBuffer(bytes: array)
            }
        }
        set { storage = .buffer(newValue) }
    }

    /// The length of ``bytes``.
    public var byteCount: Int {
        switch storage {
        case .buffer(let buffer): buffer.readableBytes
        case .array(let array): array.count
        }
    }

    /// ``bytes`` as an array (the array read from an upstream's event, not a copy of it).
    public var byteArray: [UInt8] {
        switch storage {
        case .buffer(let buffer): Array(buffer: buffer)
        case .array(let array): array
        }
    }

    /// Appends ``bytes`` to `buffer`.
    public func write(to buffer: inout ByteBuffer) {
        switch storage {
        case .buffer(let bytes): buffer.writeImmutableBuffer(bytes)
        case .array(let array): buffer.writeBytes(array)
        }
    }

    public init(bytes: ByteBuffer, events: [StreamEvent]) {
        self.storage = .buffer(bytes)
        self.events = events
    }

    /// Reads a chunk object (an upstream's, or one replayed from the cache). Throws for anything that is not a
    /// chunk object, and for an object that reports an error.
    public init(parsing bytes: ByteBuffer) throws(ProviderError) {
        try self.init(json: Array(bytes.readableBytesView), storage: .buffer(bytes))
    }

    /// Reads a chunk object from an event's data as the event stream's decoder left it, or from a cached reply's part
    /// (no copy to read it, nor to keep it).
    public init(parsing data: [UInt8]) throws(ProviderError) {
        try self.init(json: data, storage: .array(data))
    }

    private init(json: [UInt8], storage: Storage) throws(ProviderError) {
        let chunk: OpenAIChunk
        do {
            chunk = try OpenAIChunk(parsing: json)
        } catch {
            throw .invalidResponse("a stream event is not valid JSON: \(String(decoding: json, as: UTF8.self).prefix(200))")
        }
        if chunk.hasError {
            throw .streamCut("the upstream reported an error: \(chunk.errorMessage ?? "unknown")")
        }
        self.storage = storage
        self.events = chunk.events
    }

    /// The usage this chunk reports, if it does.
    public var usage: TokenUsage? {
        for case .usage(let usage) in events { return usage }
        return nil
    }

    /// The finish reason this chunk reports, if it does.
    public var finishReason: String? {
        for case .finish(let reason) in events { return reason }
        return nil
    }
}
