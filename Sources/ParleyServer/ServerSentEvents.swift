import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ParleyCore
import Synchronization

/// Writes generation events as `text/event-stream`, with keep-alive comments while idle.
enum ServerSentEvents {
    static let headers: HTTPFields = [
        .contentType: "text/event-stream; charset=utf-8",
        .cacheControl: "no-store",
        HTTPField.Name("X-Accel-Buffering")!: "no",
    ]

    /// A streaming response that ends after the terminal event, or as soon as the client leaves: when it closes
    /// its socket, not at the next write (see ``ConnectionGuard``). Events queued together go out in one write.
    /// When the replica's shutdown grace is over, the stream ends with a `reattach` event (see ``Drain``).
    /// For a visitor of a published assistant (`forVisitor`), messages are shown as ``API/visitorMessageJSON(_:)``
    /// does, errors without their upstream's words, and usage not at all.
    static func response(_ subscription: EventSubscription, context: ParleyRequestContext, drain: Drain,
                         forVisitor: Bool = false) -> Response {
        let watch = DepartureWatch(context: context) { [weak subscription] in subscription?.cancel() }
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let closed = Mutex(false)
            let registration = drain.register { [weak subscription] in
                closed.withLock { $0 = true }
                subscription?.end()
            }
            defer {
                registration.end()
                subscription.cancel()
                watch.end()
            }
            try await write(subscription, to: &writer, encoder: EventEncoder(forVisitor: forVisitor),
                            reattach: { closed.withLock { $0 } })
        })
    }

    /// The last event of a stream a shutting-down replica ends: reconnect (with `Last-Event-ID`) to go on.
    static let reattachEvent = "event: reattach\ndata: {\"reason\":\"shutting_down\",\"retry_ms\":1000}\n\n"

    private static func write(_ subscription: EventSubscription, to writer: inout any ResponseBodyWriter,
                              encoder: EventEncoder, reattach: () -> Bool) async throws {
        var answerEnded = false
        try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
        // One array for the stream's frames, emptied for each batch of events and copied once into its write.
        var frames: [UInt8] = []
        frames.reserveCapacity(512)
        loop: while true {
            switch await subscription.next() {
            case .events(let events):
                frames.removeAll(keepingCapacity: true)
                for event in events {
                    encoder.encode(event, into: &frames)
                    if case .done = event.payload { answerEnded = true }
                    if case .error = event.payload { answerEnded = true }
                }
                try await writer.write(ByteBuffer(bytes: frames))
            case .keepAlive:
                try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
            case .end:
                break loop
            }
        }
        // An answer that ended needs no reattaching, even if the replica's grace ran out just then.
        if reattach() && !answerEnded { try await writer.write(ByteBuffer(string: reattachEvent)) }
        try await writer.finish(nil)
    }

    /// Renders events as `id:`, `event:` and one `data:` line of JSON.
    struct EventEncoder {
        var forVisitor = false

        /// Appends the event's frame to `frame`.
        func encode(_ event: GenerationEvent, into frame: inout [UInt8]) {
            // A visitor of a public assistant sees its answers, not how the model got there or what it cost.
            if forVisitor {
                switch event.payload {
                case .reasoning, .usage: return
                default: break
                }
            }
            Self.append(literal: "id: ", to: &frame)
            JSONText.appendDecimal(event.id, to: &frame)
            Self.append(literal: "\nevent: ", to: &frame)
            Self.append(literal: event.nameLiteral, to: &frame)
            Self.append(literal: "\ndata: ", to: &frame)
            let render = forVisitor ? API.visitorMessageJSON : API.messageJSON
            switch event.payload {
            case .message(let message), .done(let message):
                Self.append(render(message), to: &frame)
            case .delta(let messageID, let content), .reasoning(let messageID, let content):
                Self.append(literal: "{\"message_id\":\"", to: &frame)
                Self.append(messageID, to: &frame)
                Self.append(literal: "\",\"content\":", to: &frame)
                JSONText.appendQuoted(content, to: &frame)
                frame.append(UInt8(ascii: "}"))
            case .usage(let messageID, let usage):
                Self.append("{\"message_id\":\"\(messageID)\",\"prompt_tokens\":\(usage.promptTokens),"
                    + "\"completion_tokens\":\(usage.completionTokens),\"total_tokens\":\(usage.totalTokens)}", to: &frame)
            case .error(let kind, let text, let message):
                let shown = forVisitor ? API.visitorErrorText : text
                Self.append("{\"error\":{\"type\":\(JSONText.quote(kind)),\"message\":\(JSONText.quote(shown))},"
                    + "\"message\":\(render(message))}", to: &frame)
            }
            Self.append(literal: "\n\n", to: &frame)
        }

        private static func append(literal text: StaticString, to frame: inout [UInt8]) {
            text.withUTF8Buffer { frame.append(contentsOf: $0) }
        }

        private static func append(_ text: String, to frame: inout [UInt8]) {
            var text = text
            text.withUTF8 { frame.append(contentsOf: $0) }
        }
    }
}
