import NIOCore
import Synchronization

/// Says when a connection's client has gone: it closed its side, or the connection dropped. Handlers added
/// after that run at once; each runs once.
final class ClientDeparture: Sendable {
    private struct State {
        var gone = false
        var nextID = 0
        var handlers: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    /// Runs `handler` when the client goes (now, if it has); the id removes it again.
    @discardableResult
    func whenGone(_ handler: @escaping @Sendable () -> Void) -> Int {
        let (id, runNow) = state.withLock { state -> (Int, Bool) in
            state.nextID += 1
            if state.gone { return (state.nextID, true) }
            state.handlers[state.nextID] = handler
            return (state.nextID, false)
        }
        if runNow { handler() }
        return id
    }

    /// Forgets a handler whose request ended while the client stayed (a kept-alive connection serves many).
    func remove(_ id: Int) {
        _ = state.withLock { $0.handlers.removeValue(forKey: id) }
    }

    func markGone() {
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            state.gone = true
            defer { state.handlers.removeAll() }
            return Array(state.handlers.values)
        }
        for handler in handlers { handler() }
    }
}

/// Runs `onGone` if the client of the request's connection leaves before ``end()``: for responses that wait on
/// something else (an answer being generated, an upstream's first token) and would otherwise notice only at
/// their next write. Without a ``ConnectionGuard`` on the connection (router-mode tests) it never fires.
/// A signed-in user's stream is also tracked in ``OpenStreams`` meanwhile, so signing the user out closes it.
struct DepartureWatch: Sendable {
    private let registration: EventLoopFuture<(ClientDeparture, Int)>
    private let ticket: OpenStreams.Ticket?

    init(context: ParleyRequestContext, onGone: @escaping @Sendable () -> Void) {
        registration = ConnectionGuard.departure(of: context.channel).map { departure in (departure, departure.whenGone(onGone)) }
        ticket = context.account.flatMap { principal in context.openStreams?.open(by: principal, on: context.channel) }
    }

    /// The response is over: forget `onGone`.
    func end() {
        registration.whenSuccess { departure, id in departure.remove(id) }
        ticket?.close()
    }
}
