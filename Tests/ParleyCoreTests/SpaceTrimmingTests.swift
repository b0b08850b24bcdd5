import ParleyCore
import Testing

@Suite struct SpaceTrimmingTests {
    @Test func spacesAndTabsGoFromBothEndsAndNothingElseDoes() {
        let cases: [(String, String)] = [
            ("", ""), ("   ", ""), ("\t", ""), ("abc", "abc"), ("  abc", "abc"), ("abc \t", "abc"),
            (" \t a b \t ", "a b"), ("\nabc\n", "\nabc\n"), (" héllo wörld ", "héllo wörld"),
            ("\u{A0}x\u{A0}", "\u{A0}x\u{A0}"), (" 🙂 ", "🙂"), (" e\u{301} ", "e\u{301}"),
        ]
        for (given, expected) in cases {
            #expect(String(given.trimmingSpaces) == expected, "\(given.debugDescription)")
            #expect(String(given[...].trimmingSpaces) == expected, "\(given.debugDescription) as a substring")
        }
        let inner = "[ x ]".dropFirst().dropLast()
        #expect(inner.trimmingSpaces == "x")
    }
}
