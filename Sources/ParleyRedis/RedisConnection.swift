import NIOCore
import NIOPosix
import ParleyCore

/// One TCP connection to Redis. Commands are pipelined: any number may be in flight, and replies are
/// matched to them in order. A connection with a reply overdue by the command timeout is closed, failing
/// every command waiting on it; a closed connection is not reopened (the pool makes a new one).
public final class RedisConnection: Sendable {
    let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Connects, authenticates and selects the database. `onMessage` receives pub/sub messages
    /// (`channel`, `payload`) on a connection used for subscriptions.
    public static func connect(_ configuration: RedisConfiguration, on eventLoop: any EventLoop,
                               onMessage: (@Sendable (String, ByteBuffer) -> Void)? = nil) async throws -> RedisConnection {
        let timeout = TimeAmount.microseconds(configuration.commandTimeout.wholeMicroseconds)
        let connectTimeout = TimeAmount.milliseconds(max(1, configuration.connectTimeout.wholeMilliseconds))
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(RESPDecoder()),
                        RedisCommandHandler(timeout: timeout, onMessage: onMessage),
                    ])
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            throw RedisError.unavailable("cannot connect to \(configuration.host):\(configuration.port): \(Self.describe(error))")
        }
        let connection = RedisConnection(channel: channel)
        do {
            if let password = configuration.password {
                var command: [RESPArgument] = ["AUTH"]
                if let username = configuration.username { command.append(.text(username)) }
                command.append(.text(password))
                _ = try await connection.send(command)
            }
            if configuration.database != 0 {
                _ = try await connection.send(["SELECT", .int(configuration.database)])
            }
        } catch let error as RedisError {
            connection.close()
            // Never echo the password: Redis's own AUTH errors do not contain it, and ours name no argument.
            if case .server(let message) = error { throw RedisError.unavailable("Redis refused the connection setup: \(message)") }
            throw error
        }
        return connection
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return error.description }
        if error is ChannelError { return "\(error)" }
        return String(describing: error)
    }

    /// Whether the connection is still open.
    public var isActive: Bool { channel.isActive }

    /// Sends one command; an error reply throws ``RedisError/server(_:)``.
    @discardableResult
    public func send(_ command: [RESPArgument]) async throws -> RESPValue {
        let reply = try await pipeline([command])[0]
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    /// Sends the commands in one write and returns their replies in order. Error replies are returned as
    /// ``RESPValue/error(_:)``, so one refused command does not hide the others' results.
    public func pipeline(_ commands: [[RESPArgument]]) async throws -> [RESPValue] {
        var buffer = channel.allocator.buffer(capacity: 64 * commands.count)
        for command in commands { RESPEncoder.write(command, into: &buffer) }
        let promises = (0..<commands.count).map { _ in channel.eventLoop.makePromise(of: RESPValue.self) }
        channel.writeAndFlush(RedisRequest(bytes: buffer, replies: promises), promise: nil)
        var replies: [RESPValue] = []
        replies.reserveCapacity(commands.count)
        for promise in promises { replies.append(try await promise.futureResult.get()) }
        return replies
    }

    /// Closes the connection; commands in flight fail with ``RedisError/connectionClosed``.
    public func close() {
        channel.close(promise: nil)
    }
}

/// Commands written together and the promises of their replies.
struct RedisRequest {
    var bytes: ByteBuffer
    var replies: [EventLoopPromise<RESPValue>]
}

/// Matches replies to commands in order, and pushes pub/sub messages to their callback. Runs on the
/// channel's event loop only.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private var waiting = CircularBuffer<EventLoopPromise<RESPValue>>()
    private let timeout: TimeAmount
    private let onMessage: (@Sendable (String, ByteBuffer) -> Void)?
    private var timer: Scheduled<Void>?
    /// Replies received; the timer checks it moved since it was set.
    private var progress = 0
    private var closed = false

    init(timeout: TimeAmount, onMessage: (@Sendable (String, ByteBuffer) -> Void)?) {
        self.timeout = timeout
        self.onMessage = onMessage
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard !closed else {
            for reply in request.replies { reply.fail(RedisError.connectionClosed) }
            promise?.fail(RedisError.connectionClosed)
            return
        }
        for reply in request.replies { waiting.append(reply) }
        armTimer(context: context)
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        if let onMessage, let (channel, payload) = Self.message(value) {
            onMessage(channel, payload)
            return
        }
        progress &+= 1
        guard let reply = waiting.popFirst() else {
            // A reply nobody asked for: the stream is out of step, so nothing after it can be trusted.
            fail(context: context, RedisError.protocolViolation("a reply arrived with no command waiting"))
            return
        }
        reply.succeed(value)
        if waiting.isEmpty {
            timer?.cancel()
            timer = nil
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, error as? RedisError ?? RedisError.connectionClosed)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        failAll(RedisError.connectionClosed)
        context.fireChannelInactive()
    }

    private func armTimer(context: ChannelHandlerContext) {
        guard timer == nil else { return }
        let seen = progress
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            timer = nil
            guard !waiting.isEmpty else { return }
            if progress != seen {
                armTimer(context: context)
            } else {
                fail(context: context, RedisError.timeout)
            }
        }
    }

    private func fail(context: ChannelHandlerContext, _ error: RedisError) {
        closed = true
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        timer?.cancel()
        timer = nil
        while let reply = waiting.popFirst() { reply.fail(error) }
    }

    /// `["message", channel, payload]` as pushed to a subscribed connection.
    static func message(_ value: RESPValue) -> (String, ByteBuffer)? {
        guard case .array(let items?) = value, items.count == 3, case .bulk(let kind?) = items[0],
              kind.readableBytesView.elementsEqual("message".utf8),
              let channel = items[1].string, case .bulk(let payload?) = items[2] else { return nil }
        return (channel, payload)
    }
}
