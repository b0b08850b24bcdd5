@testable import ParleyCore
import Testing

/// What a model replies becomes a clean title: one line, no label, quotes or ending punctuation, at most 80
/// characters cut at a word.
@Suite struct ConversationTitlerTests {
    @Test(arguments: [
        ("Weekend in Lisbon", "Weekend in Lisbon"),
        ("Title: \"Weekend in Lisbon\".", "Weekend in Lisbon"),
        ("**Planning a trip**\nHere is why…", "Planning a trip"),
        ("  “Recette de crêpes” ", "Recette de crêpes"),
        ("Why is the sky blue?", "Why is the sky blue?"),
    ])
    func repliesBecomeTitles(_ reply: String, _ title: String) {
        #expect(ConversationTitler.cleaned(reply) == title)
    }

    @Test func emptyRepliesGiveNoTitleAndLongOnesAreCutAtAWord() {
        #expect(ConversationTitler.cleaned("") == nil)
        #expect(ConversationTitler.cleaned("\"\"...") == nil)
        let long = ConversationTitler.cleaned(String(repeating: "word ", count: 40))
        #expect(long != nil && long!.count <= 80 && long!.hasSuffix("word"))
    }
}
