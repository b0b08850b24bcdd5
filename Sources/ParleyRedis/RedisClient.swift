import Crypto
import NIOCore
import NIOPosix
import ParleyCore
import Synchronization

/// A small pool of pipelined Redis connections.
///
/// Calls are spread over ``RedisConfiguration/poolSize`` connections, each carrying any number of commands
/// at once. A broken connection is replaced on the next call. When Redis cannot be reached, calls fail with
/// ``RedisError/unavailable(_:)`` within the connect timeout, and for ``RedisConfiguration/reconnectBackoff``
/// afterwards they fail at once, so an outage costs callers no waiting; the first call after the backoff
/// tries again, which is how the client recovers by itself.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let slots: Mutex<[Slot]>
    private let size: Int
    private let eventLoops: [any EventLoop]
    private let next = Atomic<Int>(0)
    private let lastFailure = Mutex<(at: ContinuousClock.Instant, reason: String)?>(nil)
    private let isClosed = Atomic<Bool>(false)

    private enum Slot {
        case empty
        case connecting(EventLoopFuture<RedisConnection>)
        case ready(RedisConnection)
    }

    public init(_ configuration: RedisConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        let size = max(1, configuration.poolSize)
        self.size = size
        slots = Mutex(Array(repeating: .empty, count: size))
        eventLoops = (0..<size).map { _ in group.next() }
    }

    /// Sends one command; an error reply throws ``RedisError/server(_:)``.
    @discardableResult
    public func send(_ command: [RESPArgument]) async throws -> RESPValue {
        try await connection().send(command)
    }

    /// Sends several commands in one write on one connection; replies in order, error replies as values.
    public func pipeline(_ commands: [[RESPArgument]]) async throws -> [RESPValue] {
        try await connection().pipeline(commands)
    }

    /// Runs a Lua script by its SHA-1 (`EVALSHA`), loading it with `EVAL` the first time a server lacks it.
    public func run(_ script: RedisScript, keys: [String], arguments: [RESPArgument]) async throws -> RESPValue {
        let tail: [RESPArgument] = [.int(keys.count)] + keys.map { .text($0) } + arguments
        let connection = try await connection()
        let reply = try await connection.pipeline([["EVALSHA", .text(script.sha1)] + tail])[0]
        if case .error(let message) = reply {
            guard message.hasPrefix("NOSCRIPT") else { throw RedisError.server(message) }
            return try await connection.send(["EVAL", .text(script.source)] + tail)
        }
        return reply
    }

    /// True when the last connect attempt failed and the backoff has not passed.
    public var isBackingOff: Bool {
        guard let failure = lastFailure.withLock({ $0 }) else { return false }
        return ContinuousClock.now - failure.at < configuration.reconnectBackoff
    }

    /// Closes every connection; later calls fail.
    public func close() {
        isClosed.store(true, ordering: .relaxed)
        let states = slots.withLock { states -> [Slot] in
            defer { states = Array(repeating: .empty, count: size) }
            return states
        }
        for state in states {
            switch state {
            case .ready(let connection): connection.close()
            case .connecting(let future): future.whenSuccess { $0.close() }
            case .empty: break
            }
        }
    }

    /// A live connection from the pool, connecting (once per slot, shared by concurrent callers) if needed.
    func connection() async throws -> RedisConnection {
        guard !isClosed.load(ordering: .relaxed) else { throw RedisError.unavailable("the client is closed") }
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue % size
        enum Step {
            case use(RedisConnection)
            case wait(EventLoopFuture<RedisConnection>)
            case start(EventLoopPromise<RedisConnection>)
            case refuse(String)
        }
        let eventLoop = eventLoops[index]
        let backoff = self.configuration.reconnectBackoff
        let failure = lastFailure.withLock { $0 }
        let step = slots.withLock { states -> Step in
            switch states[index] {
            case .ready(let connection) where connection.isActive:
                return .use(connection)
            case .connecting(let future):
                return .wait(future)
            case .ready, .empty:
                if let failure, ContinuousClock.now - failure.at < backoff { return .refuse(failure.reason) }
                let promise = eventLoop.makePromise(of: RedisConnection.self)
                states[index] = .connecting(promise.futureResult)
                return .start(promise)
            }
        }
        switch step {
        case .use(let connection):
            return connection
        case .wait(let future):
            return try await future.get()
        case .refuse(let reason):
            throw RedisError.unavailable(reason)
        case .start(let promise):
            do {
                let connection = try await RedisConnection.connect(configuration, on: eventLoop)
                slots.withLock { $0[index] = .ready(connection) }
                lastFailure.withLock { $0 = nil }
                promise.succeed(connection)
                return connection
            } catch {
                let redisError = error as? RedisError ?? .unavailable(String(describing: error))
                let reason: String
                if case .unavailable(let detail) = redisError { reason = detail } else { reason = redisError.description }
                slots.withLock { $0[index] = .empty }
                lastFailure.withLock { $0 = (ContinuousClock.now, reason) }
                promise.fail(redisError)
                throw redisError
            }
        }
    }
}

/// A Lua script run with `EVALSHA`; its SHA-1 is computed once, here.
public struct RedisScript: Sendable {
    public let source: String
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        sha1 = Hex.encode(Insecure.SHA1.hash(data: Array(source.utf8)))
    }
}
