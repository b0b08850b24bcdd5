import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import ParleyCore

/// Sits on every HTTP/1 connection between the codec and the application, for what never reaches a route.
///
/// - Bytes that are not HTTP (an unknown method, a bad header line, a bad chunk size) get a JSON error — `501`
///   for a method, `431` for oversized headers, `400` otherwise — instead of the framework's bare `400`, and the
///   connection closes, since nothing after the fault can be framed. A fault inside a body the application is
///   reading reaches the route as an error it answers itself (a JSON `400`); the connection closes after that.
/// - A response that says `Connection: close` closes the connection once written (an early `413` leaves the
///   unread body behind), and so does any answer to `CONNECT`, whose framing NIO leaves out.
/// - After the connection is done, late writes (the framework's own bare `400`) are dropped.
/// - When the client closes its side (or the connection drops) ``departure`` says so at once, for event streams
///   that would otherwise notice only at their next write.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// A request's head has arrived and its end has not.
    private var readingRequest = false
    /// A response's head has been written and its end has not.
    private var writingResponse = false
    /// The current request has been answered in full (the framework may still be draining its body).
    private var answered = false
    private var closeAfterResponse = false
    private var done = false
    /// Fired when the client is gone.
    let departure = ClientDeparture()

    /// The departure signal of the connection `channel` (streams ask for it only when they start).
    static func departure(of channel: any Channel) -> EventLoopFuture<ClientDeparture> {
        channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: ConnectionGuard.self).departure
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { departure.markGone() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        departure.markGone()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        departure.markGone()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            readingRequest = true
            answered = false
            if head.method == .connect { closeAfterResponse = true }
        case .end:
            readingRequest = false
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !done else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head(let head):
            if head.status.kind != .informational { writingResponse = true }
            if head.headerFields.value(of: .connection)?.lowercased() == "close" { closeAfterResponse = true }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            writingResponse = false
            answered = true
            context.write(data, promise: promise)
            if closeAfterResponse { finish(context: context) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        closeAfterResponse = true
        if readingRequest && answered {
            // The route answered without reading the whole body; nothing more is owed.
            finish(context: context)
        } else if readingRequest || writingResponse {
            // The route reading this body gets the error and answers it; or a response is still being written.
            context.fireErrorCaught(error)
        } else {
            answer(parserError, context: context)
        }
    }

    /// Writes the JSON error for bytes that never became a request, then closes.
    private func answer(_ error: HTTPParserError, context: ChannelHandlerContext) {
        let (status, type, message) = Self.describe(error)
        let body = ByteBuffer(string: "{\"error\":{\"type\":\(JSONText.quote(type)),\"message\":\(JSONText.quote(message))}}")
        let head = HTTPResponse(status: status, headerFields: [
            .contentType: "application/json; charset=utf-8", .contentLength: String(body.readableBytes),
            .connection: "close", .cacheControl: "no-store", SecurityHeaders.contentTypeOptions: "nosniff",
        ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: nil)
        finish(context: context)
    }

    private func finish(context: ChannelHandlerContext) {
        guard !done else { return }
        done = true
        context.flush()
        context.close(promise: nil)
    }

    static func describe(_ error: HTTPParserError) -> (HTTPResponse.Status, String, String) {
        switch error {
        case .invalidMethod:
            return (.notImplemented, "method_not_implemented",
                    "this server implements GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS only")
        case .headerOverflow:
            return (.requestHeaderFieldsTooLarge, "headers_too_large", "the request's headers are too large")
        default:
            return (.badRequest, "malformed_request", "the request is not valid HTTP/1.1 (\(error))")
        }
    }
}
