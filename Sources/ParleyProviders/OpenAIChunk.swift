import ParleyCore
import ParleyGateway

/// What Parley reads from one OpenAI chat completion chunk (or a whole non-streamed completion).
struct OpenAIChunk: Equatable {
    /// The chunk's reasoning, text and tool-call pieces as they come in its JSON. Reasoning is `reasoning_content`
    /// (vLLM, DeepSeek, llama.cpp) or `reasoning` (newer vLLM, OpenRouter). Kept as the events they become, so a
    /// chunk of one piece (nearly every streamed chunk) hands its array on as it is.
    private var pieces: [StreamEvent] = []
    var finishReason: String?
    var promptTokens: Int?
    var completionTokens: Int?
    var errorMessage: String?
    var hasError = false

    /// Parses `bytes`; throws ``JSONScanner/Malformed`` for anything that is not a JSON object.
    init<Bytes: Sequence>(parsing bytes: Bytes) throws where Bytes.Element == UInt8 {
        try self.init(parsingBytes: Array(bytes))
    }

    /// Fills `self` in place: building a local chunk and assigning it cost two copies and two destructions of the
    /// whole value per chunk.
    private init(parsingBytes bytes: [UInt8]) throws {
        var scanner = JSONScanner(bytes)
        self.init()
        try scanner.readObject { scanner, key in
            switch key {
            case "choices":
                if scanner.readNull() { return }
                try scanner.readArray { scanner in
                    if scanner.readNull() { return }
                    try scanner.readObject { scanner, key in
                        switch key {
                        case "delta", "message":
                            if scanner.readNull() { return }
                            try scanner.readObject { scanner, key in
                                switch key {
                                case "content":
                                    if let text = try scanner.readOptionalString(), !text.isEmpty {
                                        self.pieces.append(.text(text))
                                    }
                                case "reasoning_content", "reasoning":
                                    // A string; an object (some routers' structured reasoning) is skipped.
                                    if let text = try scanner.readOptionalString(), !text.isEmpty {
                                        self.pieces.append(.reasoning(text))
                                    }
                                case "tool_calls":
                                    if scanner.readNull() { return }
                                    try scanner.readArray { scanner in self.pieces.append(try Self.toolCallPiece(&scanner)) }
                                default:
                                    try scanner.skipValue()
                                }
                            }
                        case "finish_reason":
                            if let reason = try scanner.readOptionalString() { self.finishReason = reason }
                        default:
                            try scanner.skipValue()
                        }
                    }
                }
            case "usage":
                if scanner.readNull() { return }
                try scanner.readObject { scanner, key in
                    switch key {
                    case "prompt_tokens": self.promptTokens = try scanner.readOptionalInt()
                    case "completion_tokens": self.completionTokens = try scanner.readOptionalInt()
                    default: try scanner.skipValue()
                    }
                }
            case "error":
                if scanner.readNull() { return }
                self.hasError = true
                if scanner.nextIsString() {
                    self.errorMessage = try scanner.readString()
                    return
                }
                try scanner.readObject { scanner, key in
                    if key == "message" { self.errorMessage = try scanner.readOptionalString() } else { try scanner.skipValue() }
                }
            default:
                try scanner.skipValue()
            }
        }
        guard scanner.atEnd() else { throw JSONScanner.Malformed() }
    }

    init() {}

    /// A piece of a tool call in a delta, as the event it becomes.
    private static func toolCallPiece(_ scanner: inout JSONScanner) throws -> StreamEvent {
        var index = 0
        var id: String?
        var name: String?
        var arguments = ""
        try scanner.readObject { scanner, key in
            switch key {
            case "index": index = try scanner.readOptionalInt() ?? 0
            case "id": id = try scanner.readOptionalString()
            case "function":
                if scanner.readNull() { return }
                try scanner.readObject { scanner, key in
                    switch key {
                    case "name": name = try scanner.readOptionalString()
                    case "arguments": arguments = try scanner.readOptionalString() ?? ""
                    default: try scanner.skipValue()
                    }
                }
            default: try scanner.skipValue()
            }
        }
        return .toolCall(index: index, id: id, name: name, arguments: arguments)
    }

    /// The text pieces, in order.
    var contents: [String] {
        pieces.compactMap { piece in
            if case .text(let text) = piece { return text }
            return nil
        }
    }

    /// What this chunk says, in order: reasoning, text, tool-call pieces (each kind in the order it came), finish
    /// reason, usage.
    var events: [StreamEvent] {
        var events = pieces
        // Nearly always in order already (one piece, or reasoning before text as upstreams send them): no sort, no copy.
        if zip(events, events.dropFirst()).contains(where: { Self.rank($0) > Self.rank($1) }) {
            events = events.enumerated().sorted { (Self.rank($0.element), $0.offset) < (Self.rank($1.element), $1.offset) }
                .map(\.element)
        }
        if let finishReason { events.append(.finish(reason: finishReason)) }
        if let usage { events.append(.usage(usage)) }
        return events
    }

    /// Where a piece's kind goes among the chunk's events.
    private static func rank(_ piece: StreamEvent) -> Int {
        switch piece {
        case .reasoning: 0
        case .text: 1
        default: 2
        }
    }

    var usage: TokenUsage? {
        guard let promptTokens, let completionTokens else { return nil }
        return TokenUsage(promptTokens: promptTokens, completionTokens: completionTokens)
    }
}

