import Foundation
import ParleyCore

extension Date {
    /// Milliseconds since 1970, as stored in the database; to the nearest one, so that a date made from stored
    /// milliseconds turns back into exactly them (dividing by 1000 is not exact in floating point).
    var millis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
    init(millis: Int64) { self.init(timeIntervalSince1970: Double(millis) / 1000) }
}

extension Conversation {
    /// The same conversation with dates at the database's millisecond precision.
    var roundedToMillis: Conversation {
        var copy = self
        copy.createdAt = Date(millis: createdAt.millis)
        copy.updatedAt = Date(millis: updatedAt.millis)
        return copy
    }
}

extension Message {
    var roundedToMillis: Message {
        var copy = self
        copy.createdAt = Date(millis: createdAt.millis)
        copy.updatedAt = Date(millis: updatedAt.millis)
        return copy
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var millis: Int64 { wholeMilliseconds }
}
