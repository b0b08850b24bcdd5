import Foundation
import ParleyCore

/// Formats instants as `2026-11-21T18:06:22.463Z` (UTC, milliseconds) without Foundation's calendar
/// machinery, which is slow on the per-message hot path.
enum ISO8601 {
    /// The instant to the nearest millisecond: times are stored in milliseconds, and a stored value read back
    /// as a `Date` may sit a hair below its millisecond in floating point.
    static func string(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let days = millis >= 0 ? millis / 86_400_000 : (millis - 86_399_999) / 86_400_000
        let msOfDay = millis - days * 86_400_000
        let civil = CivilDate(daysSince1970: days)
        let hour = msOfDay / 3_600_000, minute = msOfDay / 60_000 % 60, second = msOfDay / 1000 % 60, ms = msOfDay % 1000
        // Written straight into the string's storage: no array, no check of the bytes afterwards.
        return String(unsafeUninitializedCapacity: 24) { bytes in
            func put(_ value: Int64, at offset: Int, width: Int) {
                var rest = value
                for position in stride(from: offset + width - 1, through: offset, by: -1) {
                    bytes[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
            }
            put(civil.year, at: 0, width: 4)
            bytes[4] = UInt8(ascii: "-")
            put(civil.month, at: 5, width: 2)
            bytes[7] = UInt8(ascii: "-")
            put(civil.day, at: 8, width: 2)
            bytes[10] = UInt8(ascii: "T")
            put(hour, at: 11, width: 2)
            bytes[13] = UInt8(ascii: ":")
            put(minute, at: 14, width: 2)
            bytes[16] = UInt8(ascii: ":")
            put(second, at: 17, width: 2)
            bytes[19] = UInt8(ascii: ".")
            put(ms, at: 20, width: 3)
            bytes[23] = UInt8(ascii: "Z")
            return 24
        }
    }
}
