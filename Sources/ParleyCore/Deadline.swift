import Foundation

/// Thrown by ``withDeadline(_:_:)`` and ``CallDeadlines/run(_:_:)`` when the operation takes longer than allowed.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    public let limit: Duration
    public var description: String { "no answer within \(limit)" }
}

/// Runs `operation` and returns its result, or throws ``DeadlineExceeded`` once `limit` has passed — even if
/// the operation ignores cancellation (it is cancelled and left to end on its own). Cancelling the caller
/// cancels the operation. Uses one process-wide ``CallDeadlines``.
public func withDeadline<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> T)
    async throws -> T
{
    try await CallDeadlines.shared.run(limit, operation)
}
