@testable import ParleyStore
import Testing

/// A conversation's title from its first message: the first line with text, Markdown marks taken off.
@Suite struct StoreTextTests {
    @Test(arguments: [
        ("What is the capital of France?\nAnd of Spain?", "What is the capital of France?"),
        ("\n\n  # Heading  \nbody", "Heading"),
        ("> > quoted words", "quoted words"),
        ("## \t", "##"),
        ("- an item\n- another", "an item"),
        ("-item", "-item"),
        ("* starred", "starred"),
        ("```swift\nlet x = 1\n```", "let x = 1"),
        ("~~~\n~~~", "~~~\n~~~"),
        ("   ", ""),
        ("", ""),
        ("\r\n\tHello\u{00A0}\r\n", "Hello"),
        ("line one\u{2028}line two", "line one"),
        ("Ünïcödé 🙂 title\nrest", "Ünïcödé 🙂 title"),
    ])
    func title(_ content: String, _ expected: String) {
        #expect(StoreText.title(from: content) == expected)
    }

    @Test func longLinesAreCutAtEightyCharacters() {
        #expect(StoreText.title(from: String(repeating: "a", count: 80)) == String(repeating: "a", count: 80))
        #expect(StoreText.title(from: String(repeating: "é", count: 100)) == String(repeating: "é", count: 79) + "…")
    }

    @Test func onlyTheFirstLineWithTextCounts() {
        let long = "Hi\n" + String(repeating: "more text\n", count: 100_000)
        #expect(StoreText.title(from: long) == "Hi")
    }
}
