import Foundation
import Synchronization
import Testing
@testable import ParleyCore

@Suite struct BusNoticeCodingTests {
    @Test func everyKindRoundTripsWithAwkwardText() {
        let id = UUID.v7()
        let notices: [BusNotice] = [
            .progress(messageID: id, offset: 0, text: "line one\nline two \\n not a newline \u{0} é 🎉 p c f s"),
            .progress(messageID: id, offset: 42, text: ""),
            .progress(messageID: id, offset: 7, text: " leading space and trailing \\"),
            .changed(messageID: id), .finished(messageID: id), .stop(messageID: id),
        ]
        let payloads = BusNoticeCoding.encode(notices)
        #expect(payloads.count == 1)
        #expect(payloads.flatMap(BusNoticeCoding.decode) == notices)
    }

    @Test func payloadsStayUnderTheLimitAndLargeTextBecomesChanged() {
        let ids = (0..<40).map { _ in UUID.v7() }
        let notices = ids.map { BusNotice.progress(messageID: $0, offset: 10, text: String(repeating: "ab\n", count: 100)) }
            + [.progress(messageID: ids[0], offset: 0, text: String(repeating: "x", count: 20_000))]
        let payloads = BusNoticeCoding.encode(notices, maxPayloadBytes: 7_900)
        #expect(payloads.count > 1)
        #expect(payloads.allSatisfy { $0.utf8.count <= 7_900 })
        let decoded = payloads.flatMap(BusNoticeCoding.decode)
        #expect(Array(decoded.prefix(40)) == Array(notices.prefix(40)), "order kept across payloads")
        #expect(decoded.last == .changed(messageID: ids[0]), "too large to carry: read it from the store")
    }

    @Test func accountNoticesRoundTripWithEveryScope() {
        let user = UserID(UUID.v7().lowercased)
        let credential = UUID.v7()
        let notices: [BusNotice] = [
            .account(user, ends: .nothing), .account(user, ends: .sessions), .account(user, ends: .everything),
            .account(user, ends: .credential(credential)), .finished(messageID: credential),
        ]
        #expect(BusNoticeCoding.encode(notices).flatMap(BusNoticeCoding.decode) == notices)
        #expect(BusNoticeCoding.decode("a \(user.rawValue) not-a-uuid\na  *\na \(user.rawValue)") == [],
                "an unknown scope, an empty user or a missing scope is skipped")
    }

    @Test func garbageLinesAreSkipped() {
        let id = UUID.v7()
        let payload = "x \(id.lowercased)\np not-a-uuid 1 a\np \(id.lowercased) -1 a\nf \(id.lowercased)\n\n"
        #expect(BusNoticeCoding.decode(payload) == [.finished(messageID: id)])
    }
}

@Suite struct NoticeBoardTests {
    @Test func watchersGetOnlyTheirMessageAndStopsReachTheHandler() async {
        let board = NoticeBoard()
        let mine = UUID.v7(), other = UUID.v7()
        let stopped = StopRecorder()
        board.onStop { stopped.record($0) }
        let watch = board.watch(mine)
        board.deliver([.changed(messageID: other), .progress(messageID: mine, offset: 0, text: "hi"),
                       .stop(messageID: other)])
        #expect(await watch.next(timeout: .seconds(5)) == [.progress(messageID: mine, offset: 0, text: "hi")])
        #expect(stopped.ids == [other])
        watch.cancel()
        #expect(board.watchedCount == 0)
    }

    @Test func accountNoticesReachEveryAccountHandlerAndNoWatcher() async {
        let board = NoticeBoard()
        let message = UUID.v7()
        let user = UserID("u1")
        let first = Mutex<[SignOutScope]>([]), second = Mutex<[SignOutScope]>([])
        board.onAccountChange { id, ends in if id == user { first.withLock { $0.append(ends) } } }
        board.onAccountChange { _, ends in second.withLock { $0.append(ends) } }
        let watch = board.watch(message)
        board.deliver([.account(user, ends: .everything), .finished(messageID: message), .account(user, ends: .sessions)])
        #expect(await watch.next(timeout: .seconds(5)) == [.finished(messageID: message)])
        #expect(first.withLock { $0 } == [.everything, .sessions] && second.withLock { $0 } == [.everything, .sessions])
        watch.cancel()
    }

    @Test func nextWaitsForANoticeOrTimesOut() async {
        let board = NoticeBoard()
        let id = UUID.v7()
        let watch = board.watch(id)
        let started = ContinuousClock.now
        #expect(await watch.next(timeout: .milliseconds(50)).isEmpty)
        #expect(ContinuousClock.now - started >= .milliseconds(50))
        Task {
            try? await Task.sleep(for: .milliseconds(20))
            board.deliver([.finished(messageID: id)])
        }
        #expect(await watch.next(timeout: .seconds(10)) == [.finished(messageID: id)])
        watch.cancel()
    }

    @Test func aFloodIsBoundedAndTurnsIntoARead() async {
        let board = NoticeBoard()
        let id = UUID.v7()
        let watch = board.watch(id)
        board.deliver((0..<1000).map { .progress(messageID: id, offset: $0, text: "x") })
        let pending = await watch.next(timeout: .seconds(1))
        #expect(pending.count <= NoticeWatch.pendingLimit + 1)
        #expect(pending.contains(.changed(messageID: id)))
        watch.cancel()
    }
}

@Suite struct DeadlineTests {
    @Test func anOperationThatIgnoresCancellationIsNotWaitedFor() async {
        let release = Flag()
        let ended = Flag()
        await #expect(throws: DeadlineExceeded.self) {
            try await withDeadline(.milliseconds(50)) {
                // Ignores cancellation on purpose, and runs until the test lets it go.
                while !release.isSet { await Task { try? await Task.sleep(for: .milliseconds(5)) }.value }
                ended.set()
                return 1
            }
        }
        #expect(!ended.isSet, "the deadline answered while the operation was still running")
        release.set()
    }

    @Test func sharedCallDeadlinesExpireSlowCallsAndPassTheRest() async throws {
        let deadlines = CallDeadlines(resolution: .milliseconds(10))
        let release = Flag()
        let ended = Flag()
        await #expect(throws: DeadlineExceeded.self) {
            try await deadlines.run(.milliseconds(50)) {
                while !release.isSet { await Task { try? await Task.sleep(for: .milliseconds(5)) }.value }
                ended.set()
                return 1
            }
        }
        #expect(!ended.isSet, "the deadline answered while the call was still running")
        release.set()
        // Many quick calls at once all complete, and an error passes through.
        let sum = try await withThrowingTaskGroup(of: Int.self) { group in
            for value in 1...100 { group.addTask { try await deadlines.run(.seconds(5)) { value } } }
            return try await group.reduce(0, +)
        }
        #expect(sum == 5050)
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await deadlines.run(.seconds(5)) { throw Boom() } }
    }

    @Test func resultsAndErrorsPassThrough() async throws {
        #expect(try await withDeadline(.seconds(5)) { 42 } == 42)
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await withDeadline(.seconds(5)) { throw Boom() } }
    }
}

private final class StopRecorder: Sendable {
    private let stored = Mutex<[UUID]>([])
    func record(_ id: UUID) { stored.withLock { $0.append(id) } }
    var ids: [UUID] { stored.withLock { $0 } }
}

private final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
