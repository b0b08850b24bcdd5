import Foundation
import Testing
@testable import ParleyCore

@Suite struct ContextBuilderTests {
    func message(_ role: Role, _ text: String) -> ChatMessage { ChatMessage(role: role, content: text) }

    @Test func keepsEverythingWithinBudget() {
        let history = [message(.user, "hi"), message(.assistant, "hello"), message(.user, "how are you?")]
        let context = ContextBuilder(tokenBudget: 1000).build(systemPrompt: "Be brief.", history: history)
        #expect(context == [message(.system, "Be brief.")] + history)
    }

    @Test func cutsOldestFirstAndAlwaysKeepsSystemPrompt() {
        // Each 40-byte message costs 10 + 4 = 14 tokens; the system prompt costs 1 + 4 = 5.
        let history = (0..<10).map { message($0 % 2 == 0 ? .user : .assistant, String(repeating: "\($0)", count: 40)) }
        let context = ContextBuilder(tokenBudget: 5 + 14 * 3).build(systemPrompt: "sys", history: history)
        #expect(context.first == message(.system, "sys"))
        #expect(Array(context.dropFirst()) == Array(history.suffix(3)))
    }

    @Test func newestMessageIsKeptEvenWhenAloneOverBudget() {
        let huge = message(.user, String(repeating: "x", count: 10_000))
        let context = ContextBuilder(tokenBudget: 50).build(systemPrompt: nil, history: [message(.user, "old"), huge])
        #expect(context == [huge])
    }

    @Test func blankSystemPromptIsLeftOut() {
        for blank in ["", "  \n", "\t\r\n\u{0B}\u{0C}", "\u{85}\u{A0}\u{2028}\u{2029}\u{3000}\u{202F}"] {
            let context = ContextBuilder(tokenBudget: 100).build(systemPrompt: blank, history: [message(.user, "hi")])
            #expect(context == [message(.user, "hi")], "\(blank.unicodeScalars.map(\.value))")
        }
        let spaced = ContextBuilder(tokenBudget: 100).build(systemPrompt: " \u{3000}Be brief. ", history: [message(.user, "hi")])
        #expect(spaced.first == ChatMessage(role: .system, content: " \u{3000}Be brief. "), "kept as written")
    }

    @Test func estimatorCountsBytesNotCharacters() {
        #expect(TokenEstimator.tokens(in: "") == 0)
        #expect(TokenEstimator.tokens(in: "abcd") == 1)
        #expect(TokenEstimator.tokens(in: "abcde") == 2)
        #expect(TokenEstimator.tokens(in: "日本語") == 3)  // 9 bytes
    }
}

@Suite struct IdentifierTests {
    @Test func v7IdsAreVersion7AndTimeOrdered() {
        let ids = (0..<1000).map { _ in UUID.v7() }
        for id in ids {
            #expect(id.uuid.6 >> 4 == 7)
            #expect(id.uuid.8 >> 6 == 0b10)
        }
        let later = UUID.v7(now: Date().addingTimeInterval(1))
        #expect(ids.allSatisfy { $0.lowercased.prefix(13) <= later.lowercased.prefix(13) })
        #expect(Set(ids).count == ids.count)
        let texts = ids.map(\.lowercased)
        #expect(texts == texts.sorted(), "ids made one after another sort in that order")
    }

    @Test func conversationCursorRoundTripsAndRejectsGarbage() {
        let cursor = ConversationCursor(updatedAtMillis: 1_700_000_000_123, id: .v7())
        #expect(ConversationCursor(token: cursor.token) == cursor)
        #expect(ConversationCursor(token: "zzz") == nil)
        #expect(ConversationCursor(token: "") == nil)
        #expect(ConversationCursor(token: Data("12:not-a-uuid".utf8).base64EncodedString()) == nil)
    }
}

@Suite struct UUIDTextTests {
    @Test func formatsAndParsesLikeFoundation() {
        for _ in 0..<200 {
            let id = UUID()
            #expect(id.lowercased == id.uuidString.lowercased())
            #expect(UUID(text: id.uuidString) == id)
            #expect(UUID(text: id.lowercased) == id)
        }
    }

    @Test func rejectsAnythingElse() {
        let valid = "01a1ff49-b25e-7b99-94de-0d2bac8a9592"
        #expect(UUID(text: valid) != nil)
        for bad in ["", "abc", valid + "0", String(valid.dropLast()), valid.replacingOccurrences(of: "-", with: "x"),
                    "01a1ff49b25e-7b99-94de-0d2bac8a95920", "g1a1ff49-b25e-7b99-94de-0d2bac8a9592"] {
            #expect(UUID(text: bad) == nil, "\(bad)")
        }
    }
}
