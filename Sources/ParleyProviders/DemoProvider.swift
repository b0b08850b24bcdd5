import ParleyCore

/// The built-in `demo` model, used when no upstream is configured. It is not a language model: it streams
/// a fixed explanation of how to connect one, so a fresh install shows streaming end to end.
public struct DemoProvider: Sendable {
    public static let modelName = "demo"
    /// Pause between words, so the answer visibly streams.
    public var wordDelay: Duration

    public init(wordDelay: Duration = .milliseconds(15)) {
        self.wordDelay = wordDelay
    }

    public static func reply(to prompt: String) -> String {
        let quoted = prompt.count > 200 ? String(prompt.prefix(200)) + "…" : prompt
        return """
            I am Parley's built-in demo model, not a language model: I answer every message with this text. \
            To talk to a real model, start Parley with an OpenAI-compatible upstream, for example \
            `OPENAI_BASE_URL=http://127.0.0.1:11434/v1 parley serve` for Ollama, or set `OPENAI_API_KEY` for \
            OpenAI. To try it without a model, run `parley mock-llm --port 9100` and start Parley with \
            `OPENAI_BASE_URL=http://127.0.0.1:9100/v1`.

            You wrote: “\(quoted)”
            """
    }

    /// The reply cut into words, each with the space or newline after it.
    static func pieces(of text: String) -> [String] {
        var pieces: [String] = []
        var piece = ""
        for character in text {
            piece.append(character)
            if character == " " || character == "\n" {
                pieces.append(piece)
                piece = ""
            }
        }
        if !piece.isEmpty { pieces.append(piece) }
        return pieces
    }
}
