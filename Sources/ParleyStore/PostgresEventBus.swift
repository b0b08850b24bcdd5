import Foundation
import Logging
import ParleyCore
import PostgresNIO

/// The event bus of replicas sharing one PostgreSQL database: notices are sent with `NOTIFY` through the
/// store's pool and received on one dedicated `LISTEN` connection, which reconnects by itself after an outage.
///
/// Payloads are packed by ``BusNoticeCoding`` below PostgreSQL's 8,000-byte limit. Notices sent while the
/// listener is reconnecting are lost; followers then catch up from the store (see ``GenerationFeed``).
public final class PostgresEventBus: EventBus {
    static let channel = "parley_events"

    private let client: PostgresClient
    private let listenConfiguration: PostgresConnection.Configuration
    private let board: NoticeBoard
    private let logger: Logger
    /// Longest a publish may wait on the database; a notice that cannot go out in time is dropped.
    private let publishTimeout: Duration

    public init(store: PostgresConversationStore, url: String, board: NoticeBoard, logger: Logger,
                publishTimeout: Duration = .seconds(1)) throws {
        self.client = store.client
        self.listenConfiguration = try PostgresURL(url).connectionConfiguration()
        self.board = board
        self.logger = logger
        self.publishTimeout = publishTimeout
    }

    public var reachesOtherReplicas: Bool { true }

    public func publish(_ notices: [BusNotice]) async {
        guard !notices.isEmpty else { return }
        let payloads = BusNoticeCoding.encode(notices)
        let client = self.client
        let logger = self.logger
        do {
            _ = try await withDeadline(publishTimeout) {
                try await client.query(
                    "SELECT pg_notify(\(Self.channel), payload) FROM unnest(\(payloads)::text[]) AS payload",
                    logger: logger)
            }
        } catch {
            logger.debug("could not publish notices", metadata: ["error": "\(error)", "count": "\(notices.count)"])
        }
    }

    /// Listens until cancelled, handing every notice to the board; reconnects after a second when the
    /// connection fails.
    public func run() async {
        var connectionID = 0
        var failing = false
        while !Task.isCancelled {
            connectionID += 1
            do {
                let connection = try await PostgresConnection.connect(configuration: listenConfiguration,
                                                                      id: connectionID, logger: logger)
                if failing { logger.notice("listening for replica events again") }
                failing = false
                do {
                    try await connection.listen(on: Self.channel) { notifications in
                        for try await notification in notifications {
                            board.deliver(BusNoticeCoding.decode(notification.payload))
                        }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { break }
                if !failing {
                    logger.warning("lost the replica event listener; reconnecting",
                                   metadata: ["error": "\(String(reflecting: error))"])
                }
                failing = true
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
