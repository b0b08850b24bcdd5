import Foundation
import NIOCore
import ParleyCore
import ParleyGateway

/// OpenAI chat completions ⇄ Anthropic Messages API, both ways: requests (system prompts, images, tools),
/// whole answers, streamed events, usage and finish reasons.
enum AnthropicTranslation {
    /// Anthropic requires `max_tokens`; this is sent when the client gave none.
    static let defaultMaxTokens = 4096

    /// The Messages API body for an OpenAI chat completion request.
    static func requestBody(_ request: ChatCompletionBody, model: String) throws -> [UInt8] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(request.bytes)) as? [String: Any] else {
            throw InvalidGatewayRequest("the request body is not valid JSON")
        }
        if let n = object["n"] as? Int, n > 1 {
            throw InvalidGatewayRequest("Anthropic models return one choice: 'n' must be 1", param: "n")
        }
        var body: [String: Any] = ["model": model, "max_tokens": request.maxTokens ?? defaultMaxTokens]
        var system: [String] = []
        var messages: [[String: Any]] = []
        func append(role: String, blocks: [[String: Any]]) {
            guard !blocks.isEmpty else { return }
            if let last = messages.last, last["role"] as? String == role, let previous = last["content"] as? [[String: Any]] {
                messages[messages.count - 1]["content"] = previous + blocks
            } else {
                messages.append(["role": role, "content": blocks])
            }
        }
        for (index, message) in (object["messages"] as? [[String: Any]] ?? []).enumerated() {
            let role = message["role"] as? String ?? ""
            switch role {
            case "system", "developer":
                system.append(try textOnly(message["content"], index: index))
            case "user":
                append(role: "user", blocks: try contentBlocks(message["content"], index: index))
            case "assistant":
                var blocks = try contentBlocks(message["content"], index: index)
                for call in message["tool_calls"] as? [[String: Any]] ?? [] {
                    let function = call["function"] as? [String: Any] ?? [:]
                    let arguments = (function["arguments"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
                    blocks.append(["type": "tool_use", "id": call["id"] as? String ?? "", "name": function["name"] as? String ?? "",
                                   "input": arguments ?? [String: Any]()])
                }
                append(role: "assistant", blocks: blocks)
            case "tool", "function":
                append(role: "user", blocks: [["type": "tool_result", "tool_use_id": message["tool_call_id"] as? String ?? "",
                                               "content": try textOnly(message["content"], index: index)]])
            default:
                throw InvalidGatewayRequest("messages[\(index)].role '\(role)' is not supported", param: "messages[\(index)].role")
            }
        }
        guard !messages.isEmpty else {
            throw InvalidGatewayRequest("Anthropic models need at least one user message", param: "messages")
        }
        body["messages"] = messages
        if !system.isEmpty { body["system"] = system.joined(separator: "\n\n") }
        for key in ["temperature", "top_p", "top_k"] { if let value = object[key], !(value is NSNull) { body[key] = value } }
        if let stop = object["stop"] as? String { body["stop_sequences"] = [stop] }
        if let stops = object["stop"] as? [String], !stops.isEmpty { body["stop_sequences"] = stops }
        if request.stream { body["stream"] = true }
        if let user = object["user"] as? String { body["metadata"] = ["user_id": user] }
        if let tools = object["tools"] as? [[String: Any]], !tools.isEmpty {
            body["tools"] = tools.compactMap { tool -> [String: Any]? in
                guard let function = tool["function"] as? [String: Any], let name = function["name"] as? String else { return nil }
                var translated: [String: Any] = ["name": name,
                                                 "input_schema": function["parameters"] ?? ["type": "object", "properties": [String: Any]()]]
                if let description = function["description"] as? String { translated["description"] = description }
                return translated
            }
        }
        switch object["tool_choice"] {
        case let choice as String where choice == "required": body["tool_choice"] = ["type": "any"]
        case let choice as String where choice == "none": body["tool_choice"] = ["type": "none"]
        case let choice as String where choice == "auto": body["tool_choice"] = ["type": "auto"]
        case let choice as [String: Any]:
            if let name = (choice["function"] as? [String: Any])?["name"] as? String { body["tool_choice"] = ["type": "tool", "name": name] }
        default: break
        }
        if let effort = object["reasoning_effort"] as? String, let budget = thinkingBudgets[effort] {
            try enableThinking(in: &body, budget: budget)
        }
        return Array(try JSONSerialization.data(withJSONObject: body))
    }

    /// OpenAI's `reasoning_effort` as Anthropic's thinking budget (tokens); `minimal` asks for no thinking.
    static let thinkingBudgets = ["low": 1024, "medium": 4096, "high": 16384]

    /// Turns on extended thinking: `max_tokens` must leave room for the answer after the budget, and thinking
    /// does not take a changed temperature or top_k (Anthropic refuses them), which is said before the call.
    private static func enableThinking(in body: inout [String: Any], budget: Int) throws {
        if let temperature = body["temperature"] as? Double, temperature != 1 {
            throw InvalidGatewayRequest("Anthropic models reason only at temperature 1: leave 'temperature' unset with 'reasoning_effort'",
                                        param: "temperature")
        }
        if body["top_k"] != nil {
            throw InvalidGatewayRequest("Anthropic models do not take 'top_k' with 'reasoning_effort'", param: "top_k")
        }
        body["thinking"] = ["type": "enabled", "budget_tokens": budget]
        let maxTokens = body["max_tokens"] as? Int ?? defaultMaxTokens
        if maxTokens <= budget { body["max_tokens"] = budget + maxTokens }
    }

    private static func textOnly(_ content: Any?, index: Int) throws -> String {
        switch content {
        case let text as String: return text
        case let parts as [[String: Any]]: return parts.compactMap { $0["text"] as? String }.joined(separator: "\n")
        case nil, is NSNull: return ""
        default: throw InvalidGatewayRequest("messages[\(index)].content must be a string or an array of parts", param: "messages[\(index)].content")
        }
    }

    private static func contentBlocks(_ content: Any?, index: Int) throws -> [[String: Any]] {
        switch content {
        case let text as String: return text.isEmpty ? [] : [["type": "text", "text": text]]
        case nil, is NSNull: return []
        case let parts as [[String: Any]]:
            return try parts.map { part in
                switch part["type"] as? String {
                case "text": return ["type": "text", "text": part["text"] as? String ?? ""]
                case "image_url":
                    let url = (part["image_url"] as? [String: Any])?["url"] as? String ?? part["image_url"] as? String ?? ""
                    return ["type": "image", "source": imageSource(url)]
                default:
                    throw InvalidGatewayRequest("messages[\(index)].content: only text and image_url parts can go to Anthropic",
                                                param: "messages[\(index)].content")
                }
            }
        default:
            throw InvalidGatewayRequest("messages[\(index)].content must be a string or an array of parts", param: "messages[\(index)].content")
        }
    }

    /// `data:image/png;base64,…` becomes a base64 source; anything else a URL source.
    private static func imageSource(_ url: String) -> [String: Any] {
        if url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") {
            let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
            let mediaType = header.split(separator: ";").first.map(String.init) ?? "image/png"
            return ["type": "base64", "media_type": mediaType, "data": String(url[url.index(after: comma)...])]
        }
        return ["type": "url", "url": url]
    }

    /// An OpenAI tool call object; `index` is set in streamed deltas.
    static func toolCallJSON(index: Int?, id: String, name: String, arguments: String) -> String {
        var function = JSONObjectText()
        function.field("name", name)
        function.field("arguments", arguments)
        var call = JSONObjectText()
        call.field("index", index)
        call.field("id", id)
        call.field("type", "function")
        call.field("function", json: function.closed)
        return call.closed
    }

    static func finishReason(_ stopReason: String?) -> String {
        switch stopReason {
        case "max_tokens": return "length"
        case "tool_use": return "tool_calls"
        case "refusal": return "content_filter"
        default: return "stop"
        }
    }

    struct Usage: Decodable {
        var input_tokens: Int?
        var output_tokens: Int?
        var cache_creation_input_tokens: Int?
        var cache_read_input_tokens: Int?
        /// Anthropic counts cached prompt tokens apart; OpenAI's prompt_tokens includes them.
        var promptTokens: Int? {
            guard let input_tokens else { return nil }
            return input_tokens + (cache_creation_input_tokens ?? 0) + (cache_read_input_tokens ?? 0)
        }
    }

    struct Block: Decodable {
        var type: String
        var text: String?
        /// A `thinking` block's reasoning.
        var thinking: String?
        var id: String?
        var name: String?
        var input: JSONValue?
    }

    struct Message: Decodable {
        var id: String?
        var model: String?
        var content: [Block]?
        var stop_reason: String?
        var usage: Usage?
    }

    /// A whole Messages API answer as a `chat.completion` object.
    static func completion(_ body: ByteBuffer, model: String) throws -> UpstreamReply {
        guard let message = try? JSONDecoder().decode(Message.self, from: Data(body.readableBytesView)) else {
            throw ProviderError.invalidResponse("the answer is not in Anthropic's Messages format")
        }
        let blocks = message.content ?? []
        let text = blocks.filter { $0.type == "text" }.compactMap(\.text).joined()
        let reasoning = blocks.filter { $0.type == "thinking" }.compactMap(\.thinking).joined(separator: "\n\n")
        let calls = blocks.filter { $0.type == "tool_use" }.map { block in
            toolCallJSON(index: nil, id: block.id ?? "", name: block.name ?? "", arguments: block.input?.json ?? "{}")
        }
        let usage = message.usage.flatMap { usage in
            usage.promptTokens.map { TokenUsage(promptTokens: $0, completionTokens: usage.output_tokens ?? 0) }
        }
        let writer = OpenAIChunkWriter(id: message.id ?? "msg", model: message.model ?? model)
        return UpstreamReply(body: writer.completion(content: text, reasoning: reasoning, toolCalls: calls.isEmpty ? nil : "[" + calls.joined(separator: ",") + "]",
                                                     finishReason: finishReason(message.stop_reason), usage: usage),
                             usage: usage)
    }
}

/// Any JSON value, kept to be written back as text (a tool call's `input`).
enum JSONValue: Decodable {
    case value(Any)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self = .value(try Self.decodeAny(container, decoder: decoder))
    }

    private static func decodeAny(_ container: any SingleValueDecodingContainer, decoder: any Decoder) throws -> Any {
        if container.decodeNil() { return NSNull() }
        if let bool = try? container.decode(Bool.self) { return bool }
        if let number = try? container.decode(Double.self) { return number }
        if let text = try? container.decode(String.self) { return text }
        if let array = try? container.decode([JSONValue].self) { return array.map(\.raw) }
        if let object = try? container.decode([String: JSONValue].self) { return object.mapValues(\.raw) }
        throw DecodingError.dataCorruptedError(in: container, debugDescription: "not JSON")
    }

    var raw: Any {
        switch self { case .value(let value): return value }
    }

    var json: String {
        guard let data = try? JSONSerialization.data(withJSONObject: raw, options: [.fragmentsAllowed, .sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Turns the Messages API's streamed events into OpenAI chunks, one event at a time.
struct AnthropicStreamTranslator: StreamTranslator {
    struct Event: Decodable {
        struct Delta: Decodable {
            var type: String?
            var text: String?
            var thinking: String?
            var partial_json: String?
            var stop_reason: String?
        }
        struct ErrorBody: Decodable {
            var type: String?
            var message: String?
        }
        var type: String
        var index: Int?
        var message: AnthropicTranslation.Message?
        var content_block: AnthropicTranslation.Block?
        var delta: Delta?
        var usage: AnthropicTranslation.Usage?
        var error: ErrorBody?
    }

    let includeUsage: Bool
    private var writer: OpenAIChunkWriter
    private var promptTokens = 0
    private var completionTokens = 0
    /// Anthropic content block index → OpenAI tool call index.
    private var toolIndexes: [Int: Int] = [:]
    private(set) var isDone = false
    var isComplete: Bool { isDone }

    init(model: String, includeUsage: Bool) {
        self.includeUsage = includeUsage
        self.writer = OpenAIChunkWriter(model: model)
    }

    /// The OpenAI chunks for one event. Throws for an `error` event or an event that is not Anthropic's.
    mutating func translate(_ sse: ServerSentEvent) throws -> [StreamChunk] {
        let data = sse.data
        if data.isEmpty { return [] }
        let event: Event
        do {
            event = try JSONDecoder().decode(Event.self, from: Data(data.utf8))
        } catch {
            throw ProviderError.invalidResponse("a stream event is not in Anthropic's format: \(data.prefix(200))")
        }
        switch event.type {
        case "message_start":
            let message = event.message
            writer = OpenAIChunkWriter(id: message?.id ?? writer.id, model: message?.model ?? writer.model)
            promptTokens = message?.usage?.promptTokens ?? 0
            completionTokens = message?.usage?.output_tokens ?? 0
            return [writer.text("", withRole: true)]
        case "content_block_start":
            guard let block = event.content_block, block.type == "tool_use", let index = event.index else { return [] }
            let toolIndex = toolIndexes.count
            toolIndexes[index] = toolIndex
            return [writer.toolCall(index: toolIndex, id: block.id ?? "", name: block.name ?? "", arguments: "")]
        case "content_block_delta":
            guard let delta = event.delta else { return [] }
            if let text = delta.text, delta.type == "text_delta" { return text.isEmpty ? [] : [writer.text(text)] }
            if let thinking = delta.thinking, delta.type == "thinking_delta" {
                return thinking.isEmpty ? [] : [writer.reasoning(thinking)]
            }
            if let json = delta.partial_json, let index = event.index, let toolIndex = toolIndexes[index] {
                return [writer.toolCall(index: toolIndex, arguments: json)]
            }
            return []
        case "message_delta":
            if let output = event.usage?.output_tokens { completionTokens = output }
            if let input = event.usage?.promptTokens, input > 0 { promptTokens = input }
            guard let reason = event.delta?.stop_reason else { return [] }
            return [writer.finish(AnthropicTranslation.finishReason(reason))]
        case "message_stop":
            isDone = true
            return includeUsage ? [writer.usage(TokenUsage(promptTokens: promptTokens, completionTokens: completionTokens))] : []
        case "error":
            let kind = event.error?.type ?? "error"
            let message = event.error?.message ?? "unknown error"
            if kind == "overloaded_error" { throw ProviderError.http(status: 529, message: message, retryAfterSeconds: nil) }
            throw ProviderError.streamCut("the upstream reported an error: \(kind): \(message)")
        default:
            // ping, content_block_stop, and event types added later.
            return []
        }
    }
}
