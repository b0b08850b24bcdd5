import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ParleyCore

/// Writes generation events as `text/event-stream`, with keep-alive comments while idle.
enum ServerSentEvents {
    static let headers: HTTPFields = [
        .contentType: "text/event-stream; charset=utf-8",
        .cacheControl: "no-store",
        HTTPField.Name("X-Accel-Buffering")!: "no",
    ]

    private enum Item: Sendable {
        case event(GenerationEvent)
        case keepAlive
    }

    /// A streaming response that ends after the terminal event, or when the client goes away.
    static func response(_ events: AsyncStream<GenerationEvent>, keepAlive: Duration) -> Response {
        Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let (items, sink) = AsyncStream<Item>.makeStream(bufferingPolicy: .bufferingOldest(4096))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in events {
                        if case .dropped = sink.yield(.event(event)) { break }
                    }
                    sink.finish()
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: keepAlive)
                        sink.yield(.keepAlive)
                    }
                }
                var encoder = EventEncoder()
                try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
                for await item in items {
                    switch item {
                    case .event(let event): try await writer.write(encoder.encode(event))
                    case .keepAlive: try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    }
                }
                group.cancelAll()
            }
            try await writer.finish(nil)
        })
    }

    /// Renders events; JSON for whole messages, hand-built JSON for the per-token deltas.
    struct EventEncoder {
        private let json = JSONEncoder()

        mutating func encode(_ event: GenerationEvent) throws -> ByteBuffer {
            let data: String
            switch event.payload {
            case .message(let message), .done(let message):
                data = try encodeJSON(API.Message(message))
            case .delta(let messageID, let content):
                data = "{\"message_id\":\"\(messageID)\",\"content\":\(JSONText.quote(content))}"
            case .usage(let messageID, let usage):
                data = "{\"message_id\":\"\(messageID)\",\"prompt_tokens\":\(usage.promptTokens),"
                    + "\"completion_tokens\":\(usage.completionTokens),\"total_tokens\":\(usage.totalTokens)}"
            case .error(let kind, let text, let message):
                data = "{\"error\":{\"type\":\(JSONText.quote(kind)),\"message\":\(JSONText.quote(text))},"
                    + "\"message\":\(try encodeJSON(API.Message(message)))}"
            }
            return ByteBuffer(string: "id: \(event.id)\nevent: \(event.name)\ndata: \(data)\n\n")
        }

        private func encodeJSON<T: Encodable>(_ value: T) throws -> String {
            String(decoding: try json.encode(value), as: UTF8.self)
        }
    }
}
