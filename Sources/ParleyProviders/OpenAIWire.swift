import ParleyCore

/// The OpenAI chat completions wire format, as far as Parley reads and writes it.
enum OpenAIWire {
    /// The body of a streaming chat completion request, written by hand (it is built for every turn and
    /// carries the whole context).
    static func streamingRequestBody(_ request: ChatRequest) -> String {
        var body = JSONObjectText()
        body.field("model", request.model)
        let messages = request.messages.map { message -> String in
            var object = JSONObjectText()
            object.field("role", message.role.rawValue)
            object.field("content", message.content)
            return object.closed
        }
        body.field("messages", json: "[" + messages.joined(separator: ",") + "]")
        body.field("stream", true)
        body.field("stream_options", json: "{\"include_usage\":true}")
        body.field("max_tokens", request.maxTokens)
        if let temperature = request.temperature, temperature.isFinite {
            body.field("temperature", json: String(temperature))
        }
        return body.closed
    }

    struct ErrorBody: Decodable {
        var message: String?
        var type: String?
    }

    /// Error bodies come as `{"error": {"message": …}}`, `{"error": "…"}` or `{"detail": …}`.
    struct ErrorEnvelope: Decodable {
        var message: String?
        enum CodingKeys: String, CodingKey { case error, detail, message }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if let object = try? container.decode(ErrorBody.self, forKey: .error) {
                message = object.message
            } else if let text = try? container.decode(String.self, forKey: .error) {
                message = text
            } else if let detail = try? container.decode(String.self, forKey: .detail) {
                message = detail
            } else {
                message = try? container.decode(String.self, forKey: .message)
            }
        }
    }
}
