import ParleyCore

/// The OpenAI chat completions wire format, as far as Parley reads and writes it.
enum OpenAIWire {
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
