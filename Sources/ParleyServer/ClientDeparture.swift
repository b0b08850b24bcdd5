import Synchronization

/// Says when a connection's client has gone: it closed its side, or the connection dropped. Handlers added
/// after that run at once; each runs once.
final class ClientDeparture: Sendable {
    private struct State {
        var gone = false
        var handlers: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())

    /// Runs `handler` when the client goes (now, if it has). A stream registers once per response.
    func whenGone(_ handler: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.gone { return true }
            state.handlers.append(handler)
            return false
        }
        if runNow { handler() }
    }

    /// Drops handlers whose streams ended while the client stayed (a kept-alive connection serves many).
    func removeAll() {
        state.withLock { $0.handlers.removeAll() }
    }

    func markGone() {
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            state.gone = true
            defer { state.handlers.removeAll() }
            return state.handlers
        }
        for handler in handlers { handler() }
    }
}
