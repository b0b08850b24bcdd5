import Foundation
import Synchronization

/// The owner of conversations. Until accounts exist every request acts as ``UserID/local``.
public struct UserID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    /// The single local user that owns everything before accounts exist.
    public static let local = UserID("local")
    public var description: String { rawValue }
}

extension UUID {
    private static let lastTimestamp = Mutex<UInt64>(0)

    /// A time-ordered UUID (RFC 9562 version 7): 48 bits of Unix milliseconds, then random bits.
    /// Within one process the millisecond part never goes backwards, so ids sort by creation.
    public static func v7(now: Date = Date()) -> UUID {
        let wallMillis = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        let millis = lastTimestamp.withLock { last -> UInt64 in
            last = max(last, wallMillis)
            return last
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: millis >> (8 * (5 - UInt64(index)))) }
        var generator = SystemRandomNumberGenerator()
        for index in 6..<16 { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = (bytes[6] & 0x0F) | 0x70
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    /// The lowercase textual form used in URLs, JSON and the database.
    public var lowercased: String { uuidString.lowercased() }
}
