import ParleyCore

/// A request body that cannot be served, with the OpenAI `param` it concerns.
public struct InvalidGatewayRequest: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public let param: String?
    public init(_ message: String, param: String? = nil) {
        self.message = message
        self.param = param
    }
    public var description: String { message }
}

/// A JSON object body that names a model: read in one pass by ``JSONScanner`` (the caller handles the other
/// fields), and forwarded with only the model name replaced and Parley's own fields (``parleyOnlyKeys``) left out.
struct ModelNamedBody: Sendable {
    let bytes: [UInt8]
    let model: String
    /// Where the model name's JSON string sits in ``bytes``.
    private let modelRange: Range<Int>
    /// Members that are for Parley only (the `cache` controls), cut before the body goes upstream.
    private let omittedRanges: [Range<Int>]

    /// Keys Parley acts on and upstreams must not see.
    static let parleyOnlyKeys: [StaticString] = ["cache"]

    /// Reads the object, taking `model` itself and handing every other key to `field`, which must consume
    /// its value. Malformed JSON and a missing or empty model are invalid requests.
    init(parsing bytes: [UInt8], field: (inout JSONScanner, JSONKey) throws -> Void) throws(InvalidGatewayRequest) {
        var model: String?
        var modelRange = 0..<0
        var omitted: [Range<Int>] = []
        do {
            try StrictJSON.validate(bytes)
        } catch {
            throw InvalidGatewayRequest(error.reason)
        }
        var scanner = JSONScanner(bytes)
        do {
            guard scanner.peekValue() == UInt8(ascii: "{") else {
                throw InvalidGatewayRequest("the request body must be a JSON object")
            }
            // A member runs from the end of the previous one (its comma included) to the end of its value.
            var previousEnd = scanner.valueStart() + 1
            var first = true
            try scanner.readObject { scanner, key in
                defer {
                    previousEnd = scanner.offset
                    first = false
                }
                if Self.parleyOnlyKeys.contains(where: { key == $0 }) {
                    try field(&scanner, key)
                    omitted.append(previousEnd..<scanner.offset)
                    if first { omitted[omitted.count - 1] = previousEnd..<scanner.offsetPastComma() }
                    return
                }
                guard key == "model" else { return try field(&scanner, key) }
                let start = scanner.valueStart()
                guard scanner.nextIsString() else { throw InvalidGatewayRequest("'model' must be a string", param: "model") }
                model = try scanner.readString()
                modelRange = start..<scanner.offset
            }
            guard scanner.atEnd() else { throw JSONScanner.Malformed() }
        } catch let error as InvalidGatewayRequest {
            throw error
        } catch {
            throw InvalidGatewayRequest("the request body is not valid JSON")
        }
        guard let model, !model.isEmpty else {
            throw InvalidGatewayRequest("you must provide a model parameter", param: "model")
        }
        self.bytes = bytes
        self.model = model
        self.modelRange = modelRange
        self.omittedRanges = omitted
    }

    /// A body Parley writes itself: `bytes` are a JSON object whose first member is `"model": <model>`, so the
    /// model's place is known without reading it back.
    init(written bytes: [UInt8], model: String) {
        var start: [UInt8] = Array("{\"model\":".utf8)
        let modelStart = start.count
        JSONText.appendQuoted(model, to: &start)
        precondition(bytes.starts(with: start), "a written body starts with its model")
        self.bytes = bytes
        self.model = model
        self.modelRange = modelStart..<start.count
        self.omittedRanges = []
    }

    /// The body with `model` in place of the client's model name and Parley's own fields left out;
    /// everything else byte for byte.
    func body(model newModel: String) -> [UInt8] {
        guard newModel != model || !omittedRanges.isEmpty else { return bytes }
        var edits = omittedRanges.map { ($0, [UInt8]()) }
        if newModel != model { edits.append((modelRange, Array(JSONText.quote(newModel).utf8))) }
        edits.sort { $0.0.lowerBound < $1.0.lowerBound }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count + newModel.utf8.count + 2)
        var position = 0
        for (range, replacement) in edits {
            result.append(contentsOf: bytes[position..<range.lowerBound])
            result.append(contentsOf: replacement)
            position = range.upperBound
        }
        result.append(contentsOf: bytes[position...])
        return result
    }
}

/// A `POST /v1/chat/completions` body as a client sent it.
///
/// Parley reads the few fields it acts on (model, stream, usage option, limits) in one pass without decoding
/// the rest, checks the parameters OpenAI would reject, and forwards the original bytes to OpenAI-compatible
/// upstreams with only the model name replaced, so fields Parley does not know pass through untouched.
public struct ChatCompletionBody: Sendable {
    private let named: ModelNamedBody
    public var bytes: [UInt8] { named.bytes }
    public var model: String { named.model }
    public let stream: Bool
    /// `stream_options.include_usage`: the client wants a final chunk with token counts.
    public let includeUsage: Bool
    /// `max_completion_tokens` or `max_tokens`.
    public let maxTokens: Int?
    /// `temperature`, when given.
    public let temperature: Double?
    /// Whether a `seed` was given.
    public let hasSeed: Bool
    /// The body's `cache` controls (Parley's; never sent upstream).
    public let cacheControls: CacheControls

    /// True when the same request should give the same answer: temperature 0, or a fixed seed.
    public var isDeterministic: Bool { temperature == 0 || hasSeed }

    static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool", "function"]

    public init(parsing bytes: [UInt8]) throws(InvalidGatewayRequest) {
        var stream = false, includeUsage = false, sawMessages = false, hasSeed = false
        var maxTokens: Int?
        var temperature: Double?
        var controls = CacheControls()
        named = try ModelNamedBody(parsing: bytes) { scanner, key in
            switch key {
            case "cache": controls = try CacheControls(parsing: &scanner)
            case "seed": hasSeed = try scanner.readOptionalNumber() != nil
            case "messages":
                sawMessages = true
                try Self.checkMessages(&scanner)
            case "stream":
                stream = try Self.read(&scanner, key) { try $0.readOptionalBool() } ?? false
            case "stream_options":
                if scanner.readNull() { return }
                guard scanner.peekValue() == UInt8(ascii: "{") else {
                    throw InvalidGatewayRequest("'stream_options' must be an object", param: "stream_options")
                }
                try scanner.readObject { scanner, key in
                    if key == "include_usage" {
                        includeUsage = try Self.read(&scanner, "stream_options.include_usage") { try $0.readOptionalBool() } ?? false
                    } else {
                        try scanner.skipValue()
                    }
                }
            case "max_tokens", "max_completion_tokens":
                if let value = try Self.number(&scanner, key, in: 1...Double(Int32.max), whole: true) { maxTokens = Int(value) }
            case "temperature": temperature = try Self.number(&scanner, key, in: 0...2)
            case "top_p": _ = try Self.number(&scanner, key, in: 0...1)
            case "presence_penalty", "frequency_penalty": _ = try Self.number(&scanner, key, in: -2...2)
            case "n": _ = try Self.number(&scanner, key, in: 1...128, whole: true)
            default: try scanner.skipValue()
            }
        }
        guard sawMessages else { throw InvalidGatewayRequest("missing required parameter: 'messages'", param: "messages") }
        if includeUsage && !stream {
            throw InvalidGatewayRequest("'stream_options' is only allowed when 'stream' is true", param: "stream_options")
        }
        self.stream = stream
        self.includeUsage = includeUsage
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.hasSeed = hasSeed
        self.cacheControls = controls
    }

    /// The chat UI's request for `request.model`: written once, in OpenAI's shape (streamed, with usage), and
    /// known field by field without being read back.
    public init(chat request: ChatRequest) {
        var body = JSONObjectText()
        body.field("model", request.model)
        body.field("messages", objects: request.messages) { message, object in
            object.field("role", message.role.rawValue)
            if message.images.isEmpty {
                object.field("content", message.content)
            } else {
                object.field("content", json: Self.contentParts(message))
            }
        }
        body.field("stream", true)
        body.field("stream_options", json: "{\"include_usage\":true}")
        body.field("max_tokens", request.maxTokens)
        let temperature = request.temperature.flatMap { $0.isFinite ? $0 : nil }
        if let temperature { body.field("temperature", json: String(temperature)) }
        if let topP = request.topP, topP.isFinite { body.field("top_p", json: String(topP)) }
        body.field("seed", request.seed)
        if let stop = request.stop, !stop.isEmpty {
            body.field("stop", json: "[" + stop.map(JSONText.quote).joined(separator: ",") + "]")
        }
        body.field("reasoning_effort", request.reasoningEffort)
        named = ModelNamedBody(written: body.closedBytes(), model: request.model)
        stream = true
        includeUsage = true
        maxTokens = request.maxTokens
        self.temperature = temperature
        hasSeed = request.seed != nil
        cacheControls = CacheControls()
    }

    /// A message with images as OpenAI content parts: its text, then each image as an `image_url` with a data URL.
    static func contentParts(_ message: ChatMessage) -> String {
        var parts: [String] = []
        if !message.content.isEmpty {
            var text = JSONObjectText()
            text.field("type", "text")
            text.field("text", message.content)
            parts.append(text.closed)
        }
        for image in message.images {
            var url = JSONObjectText()
            url.field("url", image.dataURL)
            var part = JSONObjectText()
            part.field("type", "image_url")
            part.field("image_url", json: url.closed)
            parts.append(part.closed)
        }
        return "[" + parts.joined(separator: ",") + "]"
    }

    /// The body with `model` in place of the client's model name; everything else byte for byte.
    public func body(model newModel: String) -> [UInt8] { named.body(model: newModel) }

    private static func checkMessages(_ scanner: inout JSONScanner) throws {
        guard scanner.peekValue() == UInt8(ascii: "[") else {
            throw InvalidGatewayRequest("'messages' must be an array", param: "messages")
        }
        var index = 0
        try scanner.readArray { scanner in
            guard scanner.peekValue() == UInt8(ascii: "{") else {
                throw InvalidGatewayRequest("messages[\(index)] must be an object", param: "messages[\(index)]")
            }
            var role: String?
            try scanner.readObject { scanner, key in
                if key == "role", scanner.nextIsString() { role = try scanner.readString() } else { try scanner.skipValue() }
            }
            guard let role, roles.contains(role) else {
                throw InvalidGatewayRequest("messages[\(index)].role must be one of system, developer, user, assistant, tool",
                                            param: "messages[\(index)].role")
            }
            index += 1
        }
        guard index > 0 else { throw InvalidGatewayRequest("'messages' must not be empty", param: "messages") }
    }

    private static func read<T>(_ scanner: inout JSONScanner, _ key: some CustomStringConvertible,
                                _ body: (inout JSONScanner) throws -> T?) throws -> T? {
        do {
            return try body(&scanner)
        } catch is JSONScanner.Malformed {
            let name = key.description
            throw InvalidGatewayRequest("'\(name)' must be a boolean", param: name)
        }
    }

    private static func number(_ scanner: inout JSONScanner, _ key: JSONKey, in range: ClosedRange<Double>,
                               whole: Bool = false) throws -> Double? {
        let value: Double?
        do {
            value = try scanner.readOptionalNumber()
        } catch {
            throw InvalidGatewayRequest("'\(key)' must be a number", param: key.string)
        }
        guard let value else { return nil }
        guard range.contains(value), !whole || value == value.rounded() else {
            let name = key.string
            let kind = whole ? "a whole number" : "a number"
            throw InvalidGatewayRequest("'\(name)' must be \(kind) from \(Self.format(range.lowerBound)) to \(Self.format(range.upperBound)), got \(Self.format(value))",
                                        param: name)
        }
        return value
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

/// A `POST /v1/embeddings` body: model and input checked, the rest forwarded as sent.
public struct EmbeddingsBody: Sendable {
    private let named: ModelNamedBody
    public var bytes: [UInt8] { named.bytes }
    public var model: String { named.model }
    /// How many inputs are embedded.
    public let inputCount: Int
    /// The body's `cache` controls (Parley's; never sent upstream).
    public let cacheControls: CacheControls

    public init(parsing bytes: [UInt8]) throws(InvalidGatewayRequest) {
        var inputCount: Int?
        var controls = CacheControls()
        named = try ModelNamedBody(parsing: bytes) { scanner, key in
            switch key {
            case "cache": controls = try CacheControls(parsing: &scanner)
            case "input":
                inputCount = try Self.countInputs(&scanner)
            case "encoding_format":
                guard scanner.nextIsString(), ["float", "base64"].contains(try scanner.readString()) else {
                    throw InvalidGatewayRequest("'encoding_format' must be 'float' or 'base64'", param: "encoding_format")
                }
            default: try scanner.skipValue()
            }
        }
        guard let inputCount else { throw InvalidGatewayRequest("missing required parameter: 'input'", param: "input") }
        self.inputCount = inputCount
        self.cacheControls = controls
    }

    /// The body with `model` in place of the client's model name.
    public func body(model newModel: String) -> [UInt8] { named.body(model: newModel) }

    /// A string, or a non-empty array of strings, of token ids, or of token-id arrays.
    private static func countInputs(_ scanner: inout JSONScanner) throws -> Int {
        let invalid = InvalidGatewayRequest("'input' must be a non-empty string or a non-empty array of strings or token arrays",
                                            param: "input")
        if scanner.nextIsString() {
            guard try !scanner.readString().isEmpty else { throw invalid }
            return 1
        }
        guard scanner.peekValue() == UInt8(ascii: "[") else { throw invalid }
        var count = 0
        var tokenIDs = false
        try scanner.readArray { scanner in
            switch scanner.peekValue() {
            case UInt8(ascii: "\""):
                guard try !scanner.readString().isEmpty else { throw invalid }
            case UInt8(ascii: "["):
                try scanner.readArray { scanner in
                    guard (try? scanner.readOptionalNumber()) ?? nil != nil else { throw invalid }
                }
            default:
                guard (try? scanner.readOptionalNumber()) ?? nil != nil else { throw invalid }
                tokenIDs = true
            }
            count += 1
        }
        guard count > 0 else { throw invalid }
        // One array of token ids is one input.
        return tokenIDs ? 1 : count
    }
}
