import Foundation
import Testing
@testable import ParleyServer

@Suite struct ISO8601Tests {
    @Test func matchesFoundation() {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        var generator = SystemRandomNumberGenerator()
        let fixed: [Double] = [0, 951_782_400.5, 1_709_164_800.999, 4_102_444_799.123, 1_763_748_382.463]
        let random = (0..<2000).map { _ in Double(Int64.random(in: 0...4_102_444_800_000, using: &generator)) / 1000 }
        for seconds in fixed + random {
            let date = Date(timeIntervalSince1970: seconds)
            let millis = Date(timeIntervalSince1970: (seconds * 1000).rounded(.down) / 1000)
            #expect(ISO8601.string(date) == millis.formatted(style), "\(seconds)")
        }
    }
}
