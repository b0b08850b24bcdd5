import NIOCore
import ParleyCore

/// Turns a stream of OpenAI chunk objects into text deltas, for the chat UI's generation jobs.
enum ChatStreamReader {
    /// Reads `stream` to its end, calling `onDelta` with each piece of text; the first batch may already have
    /// been taken (by the router, to know the attempt succeeded) and is passed as `first`.
    static func read(_ stream: UpstreamStream, first: [ByteBuffer]? = nil,
                     onDelta: @Sendable (String) -> Void) async throws -> ChatCompletionInfo {
        var info = ChatCompletionInfo()
        func take(_ batch: [ByteBuffer]) throws {
            for payload in batch {
                let chunk: OpenAIChunk
                do {
                    chunk = try OpenAIChunk(parsing: payload.readableBytesView)
                } catch {
                    throw ProviderError.invalidResponse("a stream event is not valid JSON")
                }
                if let usage = chunk.usage { info.usage = usage }
                for text in chunk.contents { onDelta(text) }
                if let reason = chunk.finishReason { info.finishReason = reason }
            }
        }
        defer { stream.cancel() }
        if let first { try take(first) }
        while let batch = try await stream.next() { try take(batch) }
        return info
    }
}
