import Foundation
import NIOCore
import ParleyCore

/// Writes OpenAI chat completion objects, for backends that produce answers in another shape (Anthropic,
/// the demo model).
struct OpenAIChunkWriter: Sendable {
    let id: String
    let model: String
    let created: Int

    init(id: String = "chatcmpl-parley-\(UUID().uuidString.lowercased().prefix(12))", model: String,
         created: Int = Int(Date().timeIntervalSince1970)) {
        self.id = id
        self.model = model
        self.created = created
    }

    private var prefix: String {
        "{\"id\":\(JSONText.quote(id)),\"object\":\"chat.completion.chunk\",\"created\":\(created),\"model\":\(JSONText.quote(model)),\"choices\":"
    }

    /// A chunk carrying `delta` (a JSON object's text) and an optional finish reason.
    func chunk(delta: String, finishReason: String? = nil) -> ByteBuffer {
        ByteBuffer(string: prefix + "[{\"index\":0,\"delta\":\(delta),\"finish_reason\":\(finishReason.map(JSONText.quote) ?? "null")}]}")
    }

    func text(_ text: String, withRole: Bool = false) -> StreamChunk {
        var delta = JSONObjectText()
        if withRole { delta.field("role", "assistant") }
        delta.field("content", text)
        return StreamChunk(bytes: chunk(delta: delta.closed), events: text.isEmpty ? [] : [.text(text)])
    }

    /// A piece of reasoning, as `reasoning_content` (the field vLLM, DeepSeek and llama.cpp stream).
    func reasoning(_ text: String) -> StreamChunk {
        var delta = JSONObjectText()
        delta.field("reasoning_content", text)
        return StreamChunk(bytes: chunk(delta: delta.closed), events: text.isEmpty ? [] : [.reasoning(text)])
    }

    /// A piece of tool call `index`: its id and name with the first piece, then its arguments' text.
    func toolCall(index: Int, id: String? = nil, name: String? = nil, arguments: String) -> StreamChunk {
        var function = JSONObjectText()
        if let name { function.field("name", name) }
        function.field("arguments", arguments)
        var call = JSONObjectText()
        call.field("index", index)
        if let id {
            call.field("id", id)
            call.field("type", "function")
        }
        call.field("function", json: function.closed)
        return StreamChunk(bytes: chunk(delta: "{\"tool_calls\":[\(call.closed)]}"),
                           events: [.toolCall(index: index, id: id, name: name, arguments: arguments)])
    }

    func finish(_ reason: String) -> StreamChunk {
        StreamChunk(bytes: chunk(delta: "{}", finishReason: reason), events: [.finish(reason: reason)])
    }

    /// The final chunk of `stream_options.include_usage`: no choices, the token counts.
    func usage(_ usage: TokenUsage) -> StreamChunk {
        StreamChunk(bytes: ByteBuffer(string: prefix + "[],\"usage\":\(Self.usageJSON(usage))}"), events: [.usage(usage)])
    }

    /// A whole `chat.completion` object.
    func completion(content: String, reasoning: String? = nil, toolCalls: String? = nil, finishReason: String,
                    usage: TokenUsage?) -> ByteBuffer {
        var message = JSONObjectText()
        message.field("role", "assistant")
        message.field("content", json: content.isEmpty && toolCalls != nil ? "null" : JSONText.quote(content))
        if let reasoning, !reasoning.isEmpty { message.field("reasoning_content", reasoning) }
        message.field("tool_calls", json: toolCalls)
        var text = "{\"id\":\(JSONText.quote(id)),\"object\":\"chat.completion\",\"created\":\(created),\"model\":\(JSONText.quote(model)),"
        text += "\"choices\":[{\"index\":0,\"message\":\(message.closed),\"finish_reason\":\(JSONText.quote(finishReason))}]"
        if let usage { text += ",\"usage\":\(Self.usageJSON(usage))" }
        return ByteBuffer(string: text + "}")
    }

    static func usageJSON(_ usage: TokenUsage) -> String {
        "{\"prompt_tokens\":\(usage.promptTokens),\"completion_tokens\":\(usage.completionTokens),\"total_tokens\":\(usage.totalTokens)}"
    }
}
