import NIOCore
import ParleyCore

/// Turns a stream's chunks into text deltas, for the chat UI's generation jobs: it reads the events the
/// backend attached to each chunk and parses nothing.
enum ChatStreamReader {
    /// Reads `stream` to its end, calling `onDelta` with each piece of text or reasoning; the first batch may already have
    /// been taken (by the router, to know the attempt succeeded) and is passed as `first`.
    static func read(_ stream: UpstreamStream, first: [StreamChunk]? = nil,
                     onDelta: @Sendable (AnswerDelta) -> Void) async throws -> ChatCompletionInfo {
        var info = ChatCompletionInfo()
        func take(_ batch: [StreamChunk]) {
            for chunk in batch {
                for event in chunk.events {
                    switch event {
                    case .text(let text): onDelta(.text(text))
                    case .reasoning(let text): onDelta(.reasoning(text))
                    case .usage(let usage): info.usage = usage
                    case .finish(let reason): info.finishReason = reason
                    case .toolCall: break
                    }
                }
            }
        }
        defer { stream.cancel() }
        if let first { take(first) }
        while let batch = try await stream.next() { take(batch) }
        return info
    }
}
