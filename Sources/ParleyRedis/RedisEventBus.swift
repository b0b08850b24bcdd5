import Logging
import NIOCore
import NIOPosix
import ParleyCore

/// The event bus of replicas sharing one Redis: notices are published with `PUBLISH` through the pool and
/// received on one dedicated subscribed connection, which reconnects by itself after an outage.
///
/// Like every ``EventBus``, delivery is best effort: notices sent while the subscriber reconnects are lost,
/// and followers catch up from the store.
public final class RedisEventBus: EventBus {
    public static let channel = "parley:events"
    static let pingInterval: Duration = .seconds(5)

    private let client: RedisClient
    private let board: NoticeBoard
    private let logger: Logger

    public init(client: RedisClient, board: NoticeBoard, logger: Logger) {
        self.client = client
        self.board = board
        self.logger = logger
    }

    public var reachesOtherReplicas: Bool { true }

    public func publish(_ notices: [BusNotice]) async {
        guard !notices.isEmpty else { return }
        let commands: [[RESPArgument]] = BusNoticeCoding.encode(notices).map { ["PUBLISH", .text(Self.channel), .text($0)] }
        do {
            _ = try await client.pipeline(commands)
        } catch {
            logger.debug("could not publish notices", metadata: ["error": "\(error)", "count": "\(notices.count)"])
        }
    }

    /// Listens until cancelled, handing every notice to the board; reconnects a second after a failure.
    public func run() async {
        var failing = false
        let board = self.board
        while !Task.isCancelled {
            do {
                let connection = try await RedisConnection.connect(client.configuration, on: MultiThreadedEventLoopGroup.singleton.next()) {
                    _, payload in board.deliver(BusNoticeCoding.decode(String(buffer: payload)))
                }
                do {
                    try await connection.send(["SUBSCRIBE", .text(Self.channel)])
                    if failing { logger.notice("listening for replica events on Redis again") }
                    failing = false
                    // A ping every few seconds finds a connection that died without closing.
                    try await withTaskCancellationHandler {
                        while connection.isActive {
                            try await Task.sleep(for: Self.pingInterval)
                            try await connection.send(["PING"])
                        }
                    } onCancel: {
                        connection.close()
                    }
                } catch {
                    connection.close()
                    throw error
                }
                throw RedisError.connectionClosed
            } catch {
                if Task.isCancelled { break }
                if !failing {
                    logger.warning("lost the Redis event subscriber; reconnecting", metadata: ["error": "\(error)"])
                }
                failing = true
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
