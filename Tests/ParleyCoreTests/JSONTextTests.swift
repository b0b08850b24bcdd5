import Foundation
import ParleyCore
import Testing

/// JSON written by hand on the hot paths: every string comes back as it went in, and the escapes are the ones a
/// browser's JavaScript can also take.
@Suite struct JSONTextTests {
    @Test(arguments: [
        "", "plain", "quote \" and backslash \\", "line\nbreak\r\ttab", "\u{0}\u{1}\u{1f}\u{7f}", "é ü 漢字 🙂",
        "separators \u{2028} and \u{2029}", "\u{2028}", "other E2 characters: € – ™ ←", "ends with €", "\\\"\\",
    ])
    func quotedTextReadsBackAsItself(_ text: String) throws {
        let quoted = JSONText.quote(text)
        let decoded = try JSONDecoder().decode(String.self, from: Data(quoted.utf8))
        #expect(decoded == text)
        #expect(!quoted.unicodeScalars.contains { $0 == "\u{2028}" || $0 == "\u{2029}" || $0.value < 0x20 })
    }

    @Test func escapesAreTheShortOnesWhereJSONHasThem() {
        #expect(JSONText.quote("a\"b\\c\nd\re\tf") == #""a\"b\\c\nd\re\tf""#)
        #expect(JSONText.quote("\u{8}\u{c}\u{1f}") == #""\u0008\u000c\u001f""#)
        #expect(JSONText.quote("x\u{2028}y\u{2029}z") == #""x\u2028y\u2029z""#)
        #expect(JSONText.quote("€") == "\"€\"")
    }

    @Test(arguments: [0, 7, -1, 42, 1_000_000, Int.max, Int.min])
    func decimals(_ value: Int) {
        var bytes: [UInt8] = []
        JSONText.appendDecimal(value, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == String(value))
    }

    @Test func objectsLeaveOutAbsentFieldsAndKeepTheirOrder() throws {
        var object = JSONObjectText()
        #expect(object.closed == "{}")
        object.field("id", "a\"b")
        object.field("missing", nil as String?)
        object.field("count", 3)
        object.field("none", nil as Int?)
        object.field("ok", true)
        object.field("raw", json: "[1,2]")
        object.field("absent", json: nil)
        #expect(object.closed == #"{"id":"a\"b","count":3,"ok":true,"raw":[1,2]}"#)
        var single = JSONObjectText()
        single.field("off", false)
        #expect(single.closed == #"{"off":false}"#)
        _ = try JSONSerialization.jsonObject(with: Data(object.closed.utf8))
    }
}
