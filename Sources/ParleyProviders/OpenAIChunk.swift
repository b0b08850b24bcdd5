import ParleyCore

/// What Parley reads from one OpenAI chat completion chunk (or a whole non-streamed completion).
struct OpenAIChunk: Equatable {
    var contents: [String] = []
    var finishReason: String?
    var promptTokens: Int?
    var completionTokens: Int?
    var errorMessage: String?
    var hasError = false

    /// Parses `bytes`; throws ``JSONScanner/Malformed`` for anything that is not a JSON object.
    init<Bytes: Sequence>(parsing bytes: Bytes) throws where Bytes.Element == UInt8 {
        var scanner = JSONScanner(bytes)
        var chunk = OpenAIChunk()
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
                                if key == "content", let text = try scanner.readOptionalString(), !text.isEmpty {
                                    chunk.contents.append(text)
                                } else if key != "content" {
                                    try scanner.skipValue()
                                }
                            }
                        case "finish_reason":
                            if let reason = try scanner.readOptionalString() { chunk.finishReason = reason }
                        default:
                            try scanner.skipValue()
                        }
                    }
                }
            case "usage":
                if scanner.readNull() { return }
                try scanner.readObject { scanner, key in
                    switch key {
                    case "prompt_tokens": chunk.promptTokens = try scanner.readOptionalInt()
                    case "completion_tokens": chunk.completionTokens = try scanner.readOptionalInt()
                    default: try scanner.skipValue()
                    }
                }
            case "error":
                if scanner.readNull() { return }
                chunk.hasError = true
                if scanner.nextIsString() {
                    chunk.errorMessage = try scanner.readString()
                    return
                }
                try scanner.readObject { scanner, key in
                    if key == "message" { chunk.errorMessage = try scanner.readOptionalString() } else { try scanner.skipValue() }
                }
            default:
                try scanner.skipValue()
            }
        }
        guard scanner.atEnd() else { throw JSONScanner.Malformed() }
        self = chunk
    }

    init() {}

    var usage: TokenUsage? {
        guard let promptTokens, let completionTokens else { return nil }
        return TokenUsage(promptTokens: promptTokens, completionTokens: completionTokens)
    }
}

