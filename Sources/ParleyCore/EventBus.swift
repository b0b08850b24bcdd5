import Foundation

/// A short notice sent between replicas: about a generation, so that a message generated on one can be
/// followed and stopped through any other, or about an account whose sign-in changed. Notices are hints: the
/// store stays the truth, and a lost notice only delays a follower until its next read of the store (and a
/// replica's cached credentials until they expire, within a second).
public enum BusNotice: Sendable, Equatable {
    /// The stored text of a `streaming` message grew: `text` follows its first `offset` UTF-8 bytes.
    case progress(messageID: UUID, offset: Int, text: String)
    /// The stored text changed by more than a notice carries; read it from the store.
    case changed(messageID: UUID)
    /// The message reached its final state in the store.
    case finished(messageID: UUID)
    /// Someone asked to stop generating this message; the replica running it stops it.
    case stop(messageID: UUID)
    /// The user's role, credentials or sessions changed: replicas forget what they cached about the user and
    /// close the streams that `ends` covers.
    case account(UserID, ends: SignOutScope)

    /// The message the notice is about; nil for account notices.
    public var messageID: UUID? {
        switch self {
        case .progress(let id, _, _), .changed(let id), .finished(let id), .stop(let id): return id
        case .account: return nil
        }
    }
}

/// Which of a user's open streams an account change ends.
public enum SignOutScope: Sendable, Equatable {
    /// None: the user stays signed in (a rename, a new key).
    case nothing
    /// Those opened with a session (every session ended; keys stay valid).
    case sessions
    /// All of them (the account was disabled or deleted).
    case everything
    /// Those opened with this session or key, which ended.
    case credential(UUID)
}

/// Carries ``BusNotice``s to the ``NoticeBoard`` of every replica, this one included.
///
/// ``LocalEventBus`` serves a single process; a PostgreSQL LISTEN/NOTIFY bus (in `ParleyStore`) spans
/// replicas. Delivery is best effort and publishing never throws: followers fall back to reading the store.
public protocol EventBus: Sendable {
    /// Whether notices reach other processes. When they do not, followers of a message generated elsewhere
    /// read the store more often, and the hub does not spend time publishing progress.
    var reachesOtherReplicas: Bool { get }
    func publish(_ notices: [BusNotice]) async
}

/// The event bus of a single process: notices go straight to its board.
public struct LocalEventBus: EventBus {
    public let board: NoticeBoard
    public init(board: NoticeBoard) { self.board = board }
    public var reachesOtherReplicas: Bool { false }
    public func publish(_ notices: [BusNotice]) async { board.deliver(notices) }
}
