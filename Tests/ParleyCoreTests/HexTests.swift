import ParleyCore
import Testing

@Suite struct HexTests {
    @Test func everyByteIsTwoLowercaseDigits() {
        #expect(Hex.encode([UInt8]()) == "")
        #expect(Hex.encode([0x00, 0x0F, 0x10, 0x9A, 0xA5, 0xFF] as [UInt8]) == "000f109aa5ff")
        let all = Hex.encode((0...255).lazy.map { UInt8($0) })
        #expect(all.count == 512 && all.hasPrefix("000102") && all.hasSuffix("fdfeff"))
        #expect(all == (0...255).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined())
    }
}
