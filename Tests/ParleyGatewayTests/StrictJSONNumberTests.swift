import Foundation
import ParleyGateway
import Testing

@Suite struct StrictJSONNumberTests {
    /// A fuzzer's finding: `2e6666…` passed the strict check while Foundation refused it as out of range.
    @Test func numbersBeyondADoubleAreRefusedLikeFoundationRefusesThem() {
        for text in ["2e" + String(repeating: "6", count: 40), "-1e400", "1" + String(repeating: "0", count: 400),
                     #"{"temperature": 1e999}"#] {
            #expect(throws: StrictJSON.Invalid.self, "\(text)") { try StrictJSON.validate(Array(text.utf8)) }
            #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)) == nil, "\(text)")
        }
        for text in ["1e308", "-0.5e-3", #"{"temperature": 0.7}"#, "12345678901234567890"] {
            #expect((try? StrictJSON.validate(Array(text.utf8))) != nil, "\(text)")
        }
    }
}
