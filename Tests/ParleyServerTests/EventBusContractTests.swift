import Foundation
import Logging
import ParleyCore
import ParleyRedis
import ParleyStore
import ParleyTestSupport
import Synchronization
import Testing

/// What every ``EventBus`` must do, run on each: the in-process bus, PostgreSQL's LISTEN/NOTIFY and Redis
/// pub/sub. A notice published by one replica reaches the boards it can reach (its own for the local bus,
/// another replica's for the others) intact and in order; one too large for the transport still tells the
/// follower to read the store; a stop reaches the replica that runs the answer.
@Suite(.serialized) struct EventBusContractTests {
    enum Kind: String, CaseIterable { case local, postgres, redis }

    static func enabled(_ kind: Kind) -> Bool {
        switch kind {
        case .local: true
        case .postgres: PostgresTestServer.binaryDirectory != nil || PostgresTestServer.required
        case .redis: RedisTestServer.enabled
        }
    }

    /// A publishing bus and the board notices should reach (another replica's, where the bus spans replicas).
    func withBuses(_ kind: Kind, _ test: (any EventBus, NoticeBoard) async throws -> Void) async throws {
        let logger = TestParley.quietLogger
        switch kind {
        case .local:
            let board = NoticeBoard()
            try await test(LocalEventBus(board: board), board)
        case .postgres:
            let postgres = try await PostgresTestServer.start()
            defer { postgres.stop() }
            try await postgres.createDatabase("bus")
            let url = postgres.url(database: "bus")
            let store = PostgresConversationStore(configuration: try PostgresConversationStore.configuration(url: url), logger: logger)
            let pool = await store.startPool()
            defer { pool.cancel() }
            let receiving = NoticeBoard()
            let publisher = try PostgresEventBus(store: store, url: url, board: NoticeBoard(), logger: logger)
            let listener = try PostgresEventBus(store: store, url: url, board: receiving, logger: logger)
            let listening = Task { await listener.run() }
            defer { listening.cancel() }
            try await test(publisher, receiving)
        case .redis:
            let server = try await RedisTestServer.start()
            defer { server.stop() }
            let (a, b) = (RedisClient(try RedisConfiguration(url: server.url)), RedisClient(try RedisConfiguration(url: server.url)))
            defer { a.close(); b.close() }
            let receiving = NoticeBoard()
            let publisher = RedisEventBus(client: a, board: NoticeBoard(), logger: logger)
            let listener = RedisEventBus(client: b, board: receiving, logger: logger)
            let listening = Task { await listener.run() }
            defer { listening.cancel() }
            try await test(publisher, receiving)
        }
    }

    /// Publishes `notices` until the first arrives (a listener connects in the background), then collects the
    /// rest of that publish.
    static func deliver(_ notices: [BusNotice], over bus: any EventBus, to board: NoticeBoard, watching id: UUID) async -> [BusNotice] {
        let watch = board.watch(id)
        defer { watch.cancel() }
        var received: [BusNotice] = []
        for _ in 0..<100 where received.isEmpty {
            await bus.publish(notices)
            received = await watch.next(timeout: .milliseconds(100))
        }
        while received.count < notices.count {
            let more = await watch.next(timeout: .seconds(2))
            if more.isEmpty { break }
            received += more
        }
        return received
    }

    @Test(arguments: Kind.allCases)
    func everyNoticeArrivesIntactAndInOrder(kind: Kind) async throws {
        guard Self.enabled(kind) else { return }
        try await withBuses(kind) { bus, board in
            let id = UUID()
            let notices: [BusNotice] = [
                .progress(messageID: id, offset: 0, text: "héllo\nworld \\ with a backslash and a tab\t"),
                .progress(messageID: id, offset: 27, text: "🙂 and more"),
                .changed(messageID: id),
                .finished(messageID: id),
            ]
            let received = await Self.deliver(notices, over: bus, to: board, watching: id)
            // A publish retried before the listener was up may arrive twice; what arrives last is the whole batch.
            #expect(Array(received.suffix(notices.count)) == notices, "\(kind): \(received)")
        }
    }

    @Test(arguments: Kind.allCases)
    func aNoticeTooLargeForTheTransportStillSendsTheFollowerToTheStore(kind: Kind) async throws {
        guard Self.enabled(kind) else { return }
        try await withBuses(kind) { bus, board in
            let id = UUID()
            let large = BusNotice.progress(messageID: id, offset: 0, text: String(repeating: "x", count: 100_000))
            let received = await Self.deliver([large], over: bus, to: board, watching: id)
            let last = try #require(received.last, "\(kind): nothing arrived")
            #expect(last == large || last == .changed(messageID: id), "\(kind): \(last)")
        }
    }

    @Test(arguments: Kind.allCases)
    func aStopReachesTheReplicaThatRunsTheAnswer(kind: Kind) async throws {
        guard Self.enabled(kind) else { return }
        try await withBuses(kind) { bus, board in
            let id = UUID()
            let stops = StopsBox()
            board.onStop { stops.add($0) }
            for _ in 0..<100 where !stops.contains(id) {
                await bus.publish([.stop(messageID: id)])
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(stops.contains(id), "\(kind)")
        }
    }
}

extension EventBusContractTests {
    /// Sign-outs cross replicas on every bus: the other replica forgets the user's credentials and closes their streams.
    @Test(arguments: Kind.allCases)
    func anAccountChangeReachesTheOtherReplica(kind: Kind) async throws {
        guard Self.enabled(kind) else { return }
        try await withBuses(kind) { bus, board in
            let user = UserID(UUID().uuidString.lowercased())
            let key = UUID()
            let heard = Mutex<[SignOutScope]>([])
            board.onAccountChange { id, ends in if id == user { heard.withLock { $0.append(ends) } } }
            for _ in 0..<100 where heard.withLock({ $0.isEmpty }) {
                await bus.publish([.account(user, ends: .credential(key))])
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(heard.withLock { $0.last } == .credential(key), "\(kind)")
        }
    }
}

/// Message ids a board was asked to stop.
final class StopsBox: Sendable {
    private let ids = Mutex<Set<UUID>>([])
    func add(_ id: UUID) { _ = ids.withLock { $0.insert(id) } }
    func contains(_ id: UUID) -> Bool { ids.withLock { $0.contains(id) } }
}
