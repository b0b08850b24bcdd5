import Foundation

/// A short notice about a generation, sent between replicas so that a message generated on one can be
/// followed and stopped through any other. Notices are hints: the store stays the truth, and a lost notice
/// only delays a follower until its next read of the store.
public enum BusNotice: Sendable, Equatable {
    /// The stored text of a `streaming` message grew: `text` follows its first `offset` UTF-8 bytes.
    case progress(messageID: UUID, offset: Int, text: String)
    /// The stored text changed by more than a notice carries; read it from the store.
    case changed(messageID: UUID)
    /// The message reached its final state in the store.
    case finished(messageID: UUID)
    /// Someone asked to stop generating this message; the replica running it stops it.
    case stop(messageID: UUID)

    public var messageID: UUID {
        switch self {
        case .progress(let id, _, _), .changed(let id), .finished(let id), .stop(let id): return id
        }
    }
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
