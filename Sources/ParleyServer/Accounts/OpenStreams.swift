import Foundation
import NIOCore
import ParleyAccounts
import ParleyCore
import Synchronization

/// The streams open on this replica (an answer's events, a `/v1` streaming answer) by the user and credential
/// that opened them, so that a sign-out announced on the event bus — a disabled or deleted user, an ended
/// session, a revoked key — closes them at once, on every replica. Closing the connection ends the stream the
/// way a departing client does (``ConnectionGuard``); the client's next request is refused.
final class OpenStreams: Sendable {
    private struct Entry {
        let credential: UUID
        let isSession: Bool
        let channel: any Channel
    }

    private struct State {
        var nextID = 0
        var byUser: [UserID: [Int: Entry]] = [:]
    }

    private let state = Mutex(State())

    /// Tracks a stream until ``Ticket/close()``.
    func open(by principal: Principal, on channel: any Channel) -> Ticket {
        let (credential, isSession): (UUID, Bool) = switch principal.credential {
        case .session(let session): (session.id, true)
        case .key(let key): (key.id, false)
        }
        let id = state.withLock { state in
            state.nextID += 1
            state.byUser[principal.user.id, default: [:]][state.nextID] = Entry(credential: credential, isSession: isSession,
                                                                               channel: channel)
            return state.nextID
        }
        return Ticket(streams: self, user: principal.user.id, id: id)
    }

    /// Closes the user's streams that `scope` covers; returns how many.
    @discardableResult
    func end(_ user: UserID, _ scope: SignOutScope) -> Int {
        let channels = state.withLock { state -> [any Channel] in
            guard let entries = state.byUser[user] else { return [] }
            let ending = entries.filter { _, entry in
                switch scope {
                case .nothing: false
                case .sessions: entry.isSession
                case .everything: true
                case .credential(let id): entry.credential == id
                }
            }
            for id in ending.keys { state.byUser[user]?.removeValue(forKey: id) }
            if state.byUser[user]?.isEmpty == true { state.byUser.removeValue(forKey: user) }
            return ending.values.map(\.channel)
        }
        for channel in channels { channel.close(promise: nil) }
        return channels.count
    }

    /// The number of streams open now.
    var count: Int { state.withLock { $0.byUser.values.reduce(0) { $0 + $1.count } } }

    fileprivate func remove(_ user: UserID, _ id: Int) {
        state.withLock { state in
            state.byUser[user]?.removeValue(forKey: id)
            if state.byUser[user]?.isEmpty == true { state.byUser.removeValue(forKey: user) }
        }
    }

    /// One tracked stream.
    struct Ticket: Sendable {
        fileprivate let streams: OpenStreams
        fileprivate let user: UserID
        fileprivate let id: Int

        /// The stream ended by itself: stop tracking it.
        func close() { streams.remove(user, id) }
    }
}
