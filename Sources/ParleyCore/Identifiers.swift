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
    private struct V7Clock {
        var millis: UInt64 = 0
        var counter: UInt16 = 0
    }

    private static let v7Clock = Mutex(V7Clock())

    /// A time-ordered UUID (RFC 9562 version 7): 48 bits of Unix milliseconds, a 12-bit counter, random bits.
    /// Within one process ids strictly increase: the counter orders ids made in the same millisecond (starting
    /// at a random value below 2048), and the clock part never goes backwards.
    public static func v7(now: Date = Date()) -> UUID {
        let wallMillis = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        var generator = SystemRandomNumberGenerator()
        let (millis, counter) = v7Clock.withLock { clock -> (UInt64, UInt16) in
            if wallMillis > clock.millis {
                clock.millis = wallMillis
                clock.counter = UInt16.random(in: 0..<0x800, using: &generator)
            } else if clock.counter >= 0xFFF {
                clock.millis += 1
                clock.counter = UInt16.random(in: 0..<0x800, using: &generator)
            } else {
                clock.counter += 1
            }
            return (clock.millis, clock.counter)
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: millis >> (8 * (5 - UInt64(index)))) }
        bytes[6] = 0x70 | UInt8(counter >> 8)
        bytes[7] = UInt8(truncatingIfNeeded: counter)
        for index in 8..<16 { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    /// The lowercase textual form used in URLs, JSON and the database.
    public var lowercased: String {
        String(unsafeUninitializedCapacity: 36) { buffer in
            writeLowercased(into: buffer)
            return 36
        }
    }

    /// Appends the lowercase textual form (36 bytes) to `output`, as JSON writers need it, without making a string.
    public func appendLowercased(to output: inout [UInt8]) {
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: 36))
        output.withUnsafeMutableBufferPointer { writeLowercased(into: UnsafeMutableBufferPointer(rebasing: $0[start...])) }
    }

    /// Writes the 36 bytes of the lowercase textual form at the start of `buffer`.
    private func writeLowercased(into buffer: UnsafeMutableBufferPointer<UInt8>) {
        withUnsafeBytes(of: uuid) { bytes in
            var position = 0
            for index in 0..<16 {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    buffer[position] = UInt8(ascii: "-")
                    position += 1
                }
                buffer[position] = Hex.digit(bytes[index] >> 4)
                buffer[position + 1] = Hex.digit(bytes[index] & 0x0F)
                position += 2
            }
        }
    }

    /// Parses the 36-character textual form (either case) without the C library; `nil` for anything else.
    /// Inlinable, so the stores' row readers get a copy specialized for `String` (generic, it cost thousands of
    /// instructions per id).
    @inlinable
    public init?(text: some StringProtocol) {
        var bytes = [UInt8](repeating: 0, count: 16)
        var count = 0
        var high: UInt8?
        var position = 0
        for character in text.utf8 {
            defer { position += 1 }
            if position == 8 || position == 13 || position == 18 || position == 23 {
                guard character == UInt8(ascii: "-") else { return nil }
                continue
            }
            let value: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = character - UInt8(ascii: "A") + 10
            default: return nil
            }
            guard count < 16 else { return nil }
            if let first = high {
                bytes[count] = first << 4 | value
                count += 1
                high = nil
            } else {
                high = value
            }
        }
        guard position == 36, count == 16 else { return nil }
        self.init(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                         bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}
