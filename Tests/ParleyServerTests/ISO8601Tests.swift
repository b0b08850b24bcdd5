import Foundation
import Testing
@testable import ParleyServer

@Suite struct ISO8601Tests {
    @Test func matchesFoundationToTheMillisecond() {
        let seconds = Date.ISO8601FormatStyle()
        var generator = SystemRandomNumberGenerator()
        let fixed: [Int64] = [0, 951_782_400_500, 1_709_164_800_999, 4_102_444_799_123, 1_763_748_382_463]
        let random = (0..<2000).map { _ in Int64.random(in: 0...4_102_444_800_000, using: &generator) }
        for millis in fixed + random {
            let date = Date(timeIntervalSince1970: Double(millis) / 1000)
            let whole = seconds.format(Date(timeIntervalSince1970: Double(millis / 1000)))
            let expected = whole.dropLast() + "." + String(format: "%03d", Int(millis % 1000)) + "Z"
            #expect(ISO8601.string(date) == expected, "\(millis)")
        }
    }
}
