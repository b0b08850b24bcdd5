import ParleyCore
import ParleyGateway
import Synchronization
import Testing

/// Request coalescing: one producer, many readers, each getting every part in order.
@Suite struct FlightTests {
    struct Boom: Error {}

    /// Reads everything a reader gets.
    static func drain(_ reader: FlightReader<String, String>) async throws -> [String] {
        defer { reader.leave() }
        var parts: [String] = []
        while let batch = try await reader.next() { parts += batch }
        return parts
    }

    @Test func lateJoinersGetEveryPartAndTheProducerRunsOnce() async throws {
        let table = FlightTable<String, String>(retainLimit: 1 << 20) { $0.utf8.count }
        let runs = Atomic<Int>(0)
        let gate = AsyncStream<Void>.makeStream()
        let produce: @Sendable (Flight<String, String>) async throws -> Void = { flight in
            runs.add(1, ordering: .relaxed)
            flight.publish(head: "head")
            flight.append(["a", "b"])
            for await _ in gate.stream { break }
            flight.append(["c"])
        }
        let (first, firstJoined) = table.join("k", produce: produce, completed: { _ in })
        #expect(try await first.head() == "head")
        let (late, lateJoined) = table.join("k", produce: produce, completed: { _ in })
        #expect(!firstJoined && lateJoined)
        gate.continuation.yield()
        #expect(try await Self.drain(first) == ["a", "b", "c"])
        #expect(try await Self.drain(late) == ["a", "b", "c"], "a late joiner starts from the first part")
        let producerRuns = runs.load(ordering: .relaxed)
        #expect(producerRuns == 1)
    }

    @Test func aFailureReachesEveryReader() async throws {
        let table = FlightTable<String, String>(retainLimit: 1 << 20) { $0.utf8.count }
        let (reader, _) = table.join("k", produce: { _ in throw Boom() }, completed: { _ in })
        await #expect(throws: Boom.self) { try await reader.head() }
        reader.leave()
    }

    @Test func theLastReaderLeavingCancelsTheProducer() async throws {
        let table = FlightTable<String, String>(retainLimit: 1 << 20) { $0.utf8.count }
        let cancelled = Atomic<Bool>(false)
        let (reader, _) = table.join("k", produce: { flight in
            flight.publish(head: "h")
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                cancelled.store(true, ordering: .relaxed)
                throw error
            }
        }, completed: { _ in })
        _ = try await reader.head()
        reader.leave()
        for _ in 0..<200 where !cancelled.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(10)) }
        let wasCancelled = cancelled.load(ordering: .relaxed)
        #expect(wasCancelled)
    }

    @Test func aFlightOverItsRetainLimitTakesNoMoreReadersAndIsNotStored() async throws {
        let table = FlightTable<String, String>(retainLimit: 10) { $0.utf8.count }
        let stored = Atomic<Bool>(false)
        let gate = AsyncStream<Void>.makeStream()
        let produce: @Sendable (Flight<String, String>) async throws -> Void = { flight in
            flight.publish(head: "h")
            flight.append(["0123456789", "abcdef"])
            for await _ in gate.stream { break }
        }
        let (first, _) = table.join("k", produce: produce, completed: { flight in
            if flight.completeParts != nil { stored.store(true, ordering: .relaxed) }
        })
        _ = try await first.head()
        #expect(try await first.next() == ["0123456789", "abcdef"])
        let (second, joined) = table.join("k", produce: { flight in flight.publish(head: "own") }, completed: { _ in })
        #expect(!joined, "a new identical request starts its own call")
        #expect(try await second.head() == "own")
        second.leave()
        gate.continuation.yield()
        #expect(try await first.next() == nil)
        first.leave()
        try await Task.sleep(for: .milliseconds(100))
        let wasStored = stored.load(ordering: .relaxed)
        #expect(!wasStored, "an answer over the limit is not offered for storing")
    }

    @Test func aFinishedFlightBeingStoredOffersItsWholeAnswer() async throws {
        let table = FlightTable<String, String>(retainLimit: 1 << 20) { $0.utf8.count }
        let storing = AsyncStream<Void>.makeStream()
        let release = AsyncStream<Void>.makeStream()
        let gate = AsyncStream<Void>.makeStream()
        let (reader, _) = table.join("k", produce: { flight in
            flight.publish(head: "h")
            flight.append(["a", "b"])
            for await _ in gate.stream { break }
        }, completed: { _ in
            storing.continuation.yield()
            for await _ in release.stream { break }
        })
        _ = try await reader.head()
        #expect(table.finished("k") == nil, "a running flight is joined, not replayed")
        gate.continuation.yield()
        #expect(try await Self.drain(reader) == ["a", "b"])
        for await _ in storing.stream { break }
        let whileStoring = table.finished("k")
        #expect(whileStoring?.0 == "h" && whileStoring?.1 == ["a", "b"])
        release.continuation.yield()
        for _ in 0..<200 where table.count > 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(table.count == 0 && table.finished("k") == nil, "once stored, the flight leaves the table")
    }
}
