import HTTPTypes
import Synchronization

/// A replica's graceful shutdown as requests see it. On SIGTERM (``begin()``) readiness answers 503 at once, so a
/// load balancer stops sending new work, and new answers are refused with a 503 that says to retry (another
/// replica takes them); answers already running get ``ParleyConfig/shutdownGrace`` to finish. When the grace is
/// over (``closeStreams()``), every stream still open ends: an answer's event stream with a `reattach` event (the
/// client reconnects with `Last-Event-ID` and another replica serves the rest), a `/v1` stream with an error
/// event, so no client is left hanging on a replica that is going away.
final class Drain: Sendable {
    private struct State {
        var draining = false
        var closing = false
        var nextID = 0
        var streams: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    var isDraining: Bool { state.withLock { $0.draining } }

    /// Streams open now and registered.
    var openStreams: Int { state.withLock { $0.streams.count } }

    func begin() {
        state.withLock { $0.draining = true }
    }

    /// Ends the open streams (each registered `close` runs once) and any registered later.
    func closeStreams() {
        let closing = state.withLock { state -> [@Sendable () -> Void] in
            state.draining = true
            state.closing = true
            defer { state.streams.removeAll() }
            return Array(state.streams.values)
        }
        for close in closing { close() }
    }

    /// Registers a stream's `close`, run when the grace is over (at once if it already is); ``Registration/end()``
    /// when the stream ends by itself.
    func register(_ close: @escaping @Sendable () -> Void) -> Registration {
        let id = state.withLock { state -> Int? in
            guard !state.closing else { return nil }
            state.nextID += 1
            state.streams[state.nextID] = close
            return state.nextID
        }
        guard let id else {
            close()
            return Registration(drain: nil, id: 0)
        }
        return Registration(drain: self, id: id)
    }

    struct Registration: Sendable {
        fileprivate let drain: Drain?
        fileprivate let id: Int

        func end() {
            drain?.state.withLock { _ = $0.streams.removeValue(forKey: id) }
        }
    }

    /// The answer to a new model call while draining: 503, retry at once (elsewhere).
    static var refusal: ClientError {
        var error = ClientError(.serviceUnavailable, type: "unavailable",
                                message: "this replica is shutting down; retry the request (another replica takes it)",
                                code: "shutting_down")
        error.headers[.retryAfter] = "1"
        return error
    }
}
