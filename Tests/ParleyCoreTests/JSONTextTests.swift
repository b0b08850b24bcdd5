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

    /// The plain runs are found eight bytes at a time: each byte value, at each place in and around a word, is
    /// found exactly where a byte-by-byte look finds it.
    @Test func plainRunsEndWhereAByteByByteLookEndsThem() {
        for value in 0...255 {
            let byte = UInt8(value)
            for length in [1, 7, 8, 9, 16, 17, 23, 31] {
                for place in 0..<length {
                    var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    bytes[place] = byte
                    for start in [0, 1, 3] where start <= length {
                        for stoppingAtE2 in [false, true] {
                            let stops = { (byte: UInt8) in
                                byte < 0x20 || byte == 0x22 || byte == 0x5C || (stoppingAtE2 && byte == 0xE2)
                            }
                            let expected = bytes[start...].firstIndex(where: stops) ?? length
                            let found = bytes.withUnsafeBufferPointer {
                                JSONText.plainRunEnd($0, from: start, stoppingAtE2: stoppingAtE2)
                            }
                            #expect(found == expected, "byte \(value) at \(place) of \(length), from \(start)")
                        }
                    }
                }
            }
        }
    }

    @Test func longTextsWithEscapesAnywhereReadBackAsThemselves() throws {
        for special in ["\"", "\\", "\n", "\u{1}", "\u{2028}", "€", "é"] {
            for place in 0..<24 {
                var text = String(repeating: "x", count: 24)
                text.insert(contentsOf: special, at: text.index(text.startIndex, offsetBy: place))
                let quoted = JSONText.quote(text)
                #expect(try JSONDecoder().decode(String.self, from: Data(quoted.utf8)) == text)
                #expect(!quoted.unicodeScalars.contains { $0 == "\u{2028}" || $0.value < 0x20 })
            }
        }
    }

    @Test(arguments: [0, 7, 9, 10, -1, -10, 42, 99, 100, 1_000_000, 999_999_999_999, 1_000_000_000_000_000_000,
                      Int.max, Int.min, Int.min + 1])
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
        var nested = JSONObjectText()
        nested.field("none", objects: [Int]()) { _, _ in }
        nested.field("list", objects: [1, 2, 3]) { number, object in
            object.field("n", number)
            if number > 1 { object.field("odd", number % 2 == 1) }
        }
        nested.field("after", "x")
        #expect(String(decoding: nested.closedBytes(), as: UTF8.self)
            == #"{"none":[],"list":[{"n":1},{"n":2,"odd":false},{"n":3,"odd":true}],"after":"x"}"#)
        var single = JSONObjectText()
        single.field("off", false)
        #expect(single.closed == #"{"off":false}"#)
        _ = try JSONSerialization.jsonObject(with: Data(object.closed.utf8))
    }
}
