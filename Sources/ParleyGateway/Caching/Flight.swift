import ParleyCore
import Synchronization

/// One upstream call shared by every identical request that arrives while it runs (request coalescing).
///
/// A producer task fills the flight: first a head (how the call was routed), then parts (a body, or stream
/// chunks) in batches, then the end or a failure. Each request reads through its own ``FlightReader`` from
/// the first part, so a request that joins late still gets the whole answer, then follows it live. When the
/// last reader leaves before the end, the producer is cancelled: nobody is waiting for the answer.
///
/// Parts are kept until the end so late joiners and the cache can have them, up to `retainLimit` bytes;
/// past that the flight takes no more readers and drops the parts its readers have all read.
public final class Flight<Head: Sendable, Part: Sendable>: Sendable {
    private let state: Mutex<State>
    private let retainLimit: Int
    private let size: @Sendable (Part) -> Int

    struct State {
        var head: Head?
        var parts: [Part] = []
        /// Index of `parts[0]` in the whole answer (parts before it were dropped).
        var dropped = 0
        var bytes = 0
        var outcome: Outcome = .running
        var readers: [Int: Int] = [:]
        var nextReader = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var producer: Task<Void, Never>?
        var joinable = true
        /// Bumped on every change, so a reader can tell whether to sleep.
        var version = 0
    }

    enum Outcome {
        case running
        case finished
        case failed(any Error)
    }

    public init(retainLimit: Int, size: @escaping @Sendable (Part) -> Int) {
        self.retainLimit = retainLimit
        self.size = size
        state = Mutex(State())
    }

    // MARK: Producer side

    /// Runs `produce` in a task of its own; it feeds the flight through the closures it is given.
    func start(_ produce: @escaping @Sendable (Flight) async throws -> Void, then done: @escaping @Sendable () async -> Void) {
        let task = Task {
            do {
                try await produce(self)
                self.end(.finished)
            } catch {
                self.end(.failed(error))
            }
            await done()
        }
        state.withLock { $0.producer = task }
    }

    /// How the answer is being produced; readers wait for it before any part.
    public func publish(head: Head) {
        wake { $0.head = head }
    }

    /// More of the answer.
    public func append(_ batch: [Part]) {
        guard !batch.isEmpty else { return }
        let added = batch.reduce(0) { $0 + size($1) }
        let limit = retainLimit
        wake { state in
            state.parts.append(contentsOf: batch)
            state.bytes += added
            if state.bytes > limit { state.joinable = false }
        }
    }

    private func end(_ outcome: Outcome) {
        wake { $0.outcome = outcome }
    }

    /// Every part, when the flight finished and kept them all (nothing dropped, under the retain limit).
    public var completeParts: (Head, [Part])? {
        state.withLock { state in
            guard case .finished = state.outcome, state.dropped == 0, state.joinable, let head = state.head else { return nil }
            return (head, state.parts)
        }
    }

    private func wake(_ change: (inout State) -> Void) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            change(&state)
            state.version &+= 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    // MARK: Reader side

    /// A reader from the first part, or `nil` when the flight takes no more readers.
    func reader() -> FlightReader<Head, Part>? {
        state.withLock { state in
            guard state.joinable, state.dropped == 0 else { return nil }
            let id = state.nextReader
            state.nextReader += 1
            state.readers[id] = 0
            return FlightReader(flight: self, id: id)
        }
    }

    /// The head once published; throws the flight's failure if it failed first.
    func head(reader id: Int) async throws -> Head {
        try await wait(reader: id) { state in
            if let head = state.head { return .ready(head) }
            switch state.outcome {
            case .running: return .notYet
            case .finished: throw FlightError.endedWithoutAnswer
            case .failed(let error): throw error
            }
        }
    }

    /// The parts this reader has not seen; `nil` at the end; throws the flight's failure.
    func next(reader id: Int) async throws -> [Part]? {
        try await wait(reader: id) { state in
            let position = state.readers[id] ?? 0
            let available = state.dropped + state.parts.count
            if position < available {
                let batch = Array(state.parts[(position - state.dropped)...])
                state.readers[id] = available
                Self.dropRead(&state)
                return .ready(batch)
            }
            switch state.outcome {
            case .running: return .notYet
            case .finished: return .ready(nil)
            case .failed(let error): throw error
            }
        }
    }

    enum Check<T> {
        case ready(T)
        case notYet
    }

    /// Runs `check` under the lock until it is ready, sleeping between changes of the flight.
    private func wait<T>(reader id: Int, _ check: (inout State) throws -> Check<T>) async throws -> T {
        while true {
            let (result, version) = try state.withLock { state in (try check(&state), state.version) }
            if case .ready(let value) = result { return value }
            try Task.checkCancellation()
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state -> Bool in
                        // A change since the check, or a cancellation, means looking again rather than sleeping.
                        if state.version != version || Task.isCancelled { return true }
                        state.waiters[id] = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
            }
        }
    }

    /// Once new readers are refused, parts every reader has read are not needed any more.
    private static func dropRead(_ state: inout State) {
        guard !state.joinable, let lowest = state.readers.values.min(), lowest > state.dropped else { return }
        state.parts.removeFirst(lowest - state.dropped)
        state.dropped = lowest
    }

    func leave(reader id: Int) {
        let producer = state.withLock { state -> Task<Void, Never>? in
            state.readers[id] = nil
            if state.joinable { Self.dropRead(&state) }
            guard state.readers.isEmpty, case .running = state.outcome else { return nil }
            state.joinable = false
            return state.producer
        }
        producer?.cancel()
    }
}

/// Why a reader got no answer.
public enum FlightError: Error, Sendable {
    /// The producer returned without publishing a head.
    case endedWithoutAnswer
}

/// One request's view of a ``Flight``. Call ``leave()`` when done (or gone).
public final class FlightReader<Head: Sendable, Part: Sendable>: Sendable {
    let flight: Flight<Head, Part>
    let id: Int

    init(flight: Flight<Head, Part>, id: Int) {
        self.flight = flight
        self.id = id
    }

    /// How the shared call was routed, once it is; throws its failure.
    public func head() async throws -> Head { try await flight.head(reader: id) }
    /// The next parts; `nil` at the end.
    public func next() async throws -> [Part]? { try await flight.next(reader: id) }
    /// Stops reading; the last reader to leave a running flight cancels it.
    public func leave() { flight.leave(reader: id) }
}

/// The flights running now, by request key.
public final class FlightTable<Head: Sendable, Part: Sendable>: Sendable {
    private let flights = Mutex<[String: Flight<Head, Part>]>([:])
    private let retainLimit: Int
    private let size: @Sendable (Part) -> Int

    public init(retainLimit: Int, size: @escaping @Sendable (Part) -> Int) {
        self.retainLimit = retainLimit
        self.size = size
    }

    /// Flights running now.
    public var count: Int { flights.withLock { $0.count } }

    /// The whole answer of the flight for `key` when it has finished but is still in the table (its answer is
    /// being stored): a request arriving then is served from memory, as the stored answer would serve it.
    public func finished(_ key: String) -> (Head, [Part])? {
        flights.withLock { $0[key] }?.completeParts
    }

    /// Joins the flight running for `key`, or starts one with `produce`. `completed` runs when a flight this
    /// call started ends (to store its answer), before the flight leaves the table, so a request arriving in
    /// between finds the stored answer or, until it is stored, the finished flight (``finished(_:)``) to
    /// replay. `joined` tells whether the call was shared.
    public func join(_ key: String, produce: @escaping @Sendable (Flight<Head, Part>) async throws -> Void,
                     completed: @escaping @Sendable (Flight<Head, Part>) async -> Void) -> (reader: FlightReader<Head, Part>, joined: Bool) {
        let (flight, reader, isNew) = flights.withLock { flights -> (Flight<Head, Part>, FlightReader<Head, Part>, Bool) in
            if let running = flights[key], let reader = running.reader() { return (running, reader, false) }
            let flight = Flight<Head, Part>(retainLimit: retainLimit, size: size)
            flights[key] = flight
            return (flight, flight.reader()!, true)
        }
        if isNew {
            flight.start(produce) { [self] in
                await completed(flight)
                self.flights.withLock { table in
                    if table[key] === flight { table[key] = nil }
                }
            }
        }
        return (reader, !isNew)
    }
}
