import Foundation
import NIOCore
import ParleyCore
import ParleyEmbedding
import ParleyGateway

/// Parley's built-in embedding model behind the router: `/v1/embeddings` for `local/<folder name>` runs the
/// ``SentenceEncoder`` in this process, with OpenAI's request and answer shapes and rules (a string or up to 2,048
/// non-empty strings; `float` or `base64` encoding; `dimensions` only as the model's own). It cannot chat.
public struct LocalEmbeddingProvider: ModelBackend {
    public static let upstreamName = "local"
    /// OpenAI's limit on inputs per request.
    public static let maxInputs = 2048

    public let encoder: SentenceEncoder
    /// The name clients use: `local/<folder name>`.
    public let modelName: String

    public init(encoder: SentenceEncoder) {
        self.encoder = encoder
        self.modelName = "local/" + encoder.folder.name
    }

    /// The router's entry for it.
    public var deployment: (UpstreamConfig, any ModelBackend) {
        (UpstreamConfig(name: Self.upstreamName, baseURL: "builtin:", models: [modelName]), self)
    }

    public var kind: String { "local" }
    public var chats: Bool { false }

    public func complete(_ request: ChatCompletionBody, model: String, limits: AttemptLimits) async throws -> UpstreamReply {
        throw InvalidGatewayRequest("'\(model)' is an embedding model; use it with /v1/embeddings", param: "model")
    }

    public func stream(_ request: ChatCompletionBody, model: String, limits: AttemptLimits) async throws -> UpstreamStream {
        throw InvalidGatewayRequest("'\(model)' is an embedding model; use it with /v1/embeddings", param: "model")
    }

    public func listModels(limits: AttemptLimits) async throws -> [String] { [modelName] }

    public func embed(_ request: EmbeddingsBody, model: String, limits: AttemptLimits) async throws -> UpstreamReply {
        let (texts, base64) = try Self.inputs(of: request.bytes, dimensions: encoder.dimensions)
        let encoded: SentenceEncoder.Encoded
        do {
            encoded = try await withDeadline(limits.remaining) { try await encoder.encode(texts) }
        } catch let rejected as EncodingRejected {
            throw InvalidGatewayRequest(rejected.description, param: "input")
        } catch let busy as EncoderBusy {
            throw ProviderError.http(status: 503, message: busy.description, retryAfterSeconds: 1)
        } catch let late as DeadlineExceeded {
            throw ProviderError.firstTokenTimeout(seconds: Double(late.limit.components.seconds))
        } catch let broken as ModelFolderError {
            throw ProviderError.http(status: 500, message: "the local embedding model could not be loaded: \(broken)", retryAfterSeconds: nil)
        }
        let usage = TokenUsage(promptTokens: encoded.tokens, completionTokens: 0)
        return UpstreamReply(body: Self.reply(encoded.vectors, model: modelName, tokens: encoded.tokens, base64: base64), usage: usage)
    }

    /// The texts of a request body, and whether vectors go back as base64; a 400 for anything OpenAI refuses.
    static func inputs(of body: [UInt8], dimensions: Int) throws -> (texts: [String], base64: Bool) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw InvalidGatewayRequest("the request body is not a JSON object")
        }
        let texts: [String]
        switch object["input"] {
        case let text as String: texts = [text]
        case let list as [Any]:
            guard list.allSatisfy({ $0 is String }) else {
                throw InvalidGatewayRequest("'\(LocalEmbeddingProvider.upstreamName)' models take text, not token ids: 'input' must be a string or an array of strings",
                                            param: "input")
            }
            texts = list.compactMap { $0 as? String }
        default:
            throw InvalidGatewayRequest("'input' must be a string or an array of strings", param: "input")
        }
        guard !texts.isEmpty else { throw InvalidGatewayRequest("'input' must not be empty", param: "input") }
        guard texts.count <= maxInputs else {
            throw InvalidGatewayRequest("'input' has \(texts.count) items; the most is \(maxInputs)", param: "input")
        }
        if let empty = texts.firstIndex(where: \.isEmpty) {
            throw InvalidGatewayRequest("input[\(empty)] is empty; every input must be a non-empty string", param: "input")
        }
        if let requested = object["dimensions"] {
            guard let number = requested as? Int, number == dimensions else {
                throw InvalidGatewayRequest("this model makes \(dimensions)-dimensional vectors; 'dimensions' can only be \(dimensions)",
                                            param: "dimensions")
            }
        }
        return (texts, (object["encoding_format"] as? String) == "base64")
    }

    /// OpenAI's embeddings answer.
    static func reply(_ vectors: [[Float]], model: String, tokens: Int, base64: Bool) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(vectors.count * (base64 ? 2_200 : 4_800) + 200)
        buffer.writeString("{\"object\":\"list\",\"data\":[")
        for (index, vector) in vectors.enumerated() {
            if index > 0 { buffer.writeString(",") }
            buffer.writeString("{\"object\":\"embedding\",\"index\":\(index),\"embedding\":")
            if base64 {
                let bytes = vector.withUnsafeBytes { Data($0) }
                buffer.writeString("\"\(bytes.base64EncodedString())\"")
            } else {
                buffer.writeString("[")
                for (position, value) in vector.enumerated() {
                    if position > 0 { buffer.writeString(",") }
                    buffer.writeString(value.description)
                }
                buffer.writeString("]")
            }
            buffer.writeString("}")
        }
        buffer.writeString("],\"model\":\(JSONText.quote(model)),\"usage\":{\"prompt_tokens\":\(tokens),\"total_tokens\":\(tokens)}}")
        return buffer
    }
}
