import Foundation
import ParleyCore
@testable import ParleyImport
import Testing

/// Each app's export read into Parley's conversation: the messages with text, the branches, the active one.
@Suite struct ExportFormatTests {
    static func conversation(_ text: String) throws -> (ExportFormat, ConversationImport) {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let format = try #require(ExportFormat.of(object))
        return (format, try #require(format.read(object).conversationImport(owner: UserID("alice"))))
    }

    static func active(_ imported: ConversationImport) -> [String] {
        imported.messages.filter(\.onActiveBranch).map(\.content)
    }

    @Test func chatGPTKeepsBothBranchesAndTheOneItShowed() throws {
        let (format, imported) = try Self.conversation(ExportFixtures.chatGPT)
        #expect(format == .chatGPT)
        #expect(imported.conversation.title == "Rust lifetimes")
        #expect(imported.conversation.createdAt.timeIntervalSince1970 == 1700000000.123)
        #expect(imported.messages.map(\.content) == [
            "What is a lifetime?", "A lifetime is how long a reference is valid.", "Show an example",
            "fn longest<'a>(x: &'a str, y: &'a str) -> &'a str", "Show a short example", "Here: fn f<'a>(x: &'a str) -> &'a str",
        ], "hidden system and tool messages left out, the image part dropped, parents before children")
        #expect(imported.messages.map(\.index) == Array(1...6))
        #expect(Self.active(imported) == ["What is a lifetime?", "A lifetime is how long a reference is valid.",
                                          "Show an example", "fn longest<'a>(x: &'a str, y: &'a str) -> &'a str"])
        let ids = imported.messages.map(\.id)
        #expect(imported.messages.map(\.parentID) == [nil, ids[0], ids[1], ids[2], ids[1], ids[4]])
        #expect(imported.messages[1].model == "gpt-4o" && imported.messages[5].model == "gpt-4o-mini")
        #expect(imported.messages[0].model == nil && imported.messages.allSatisfy { $0.status == .complete })
        try imported.validate()
    }

    @Test func openWebUIKeepsTheRegeneratedAnswersAndTheCurrentMessage() throws {
        let (format, imported) = try Self.conversation(ExportFixtures.openWebUI)
        #expect(format == .openWebUI)
        #expect(imported.messages.map(\.content) == ["Plan a day in Paris", "Morning: the Louvre.", "Start at Montmartre.",
                                                     "And the evening?"])
        #expect(Self.active(imported) == ["Plan a day in Paris", "Start at Montmartre.", "And the evening?"])
        #expect(imported.messages[1].parentID == imported.messages[0].id && imported.messages[2].parentID == imported.messages[0].id)
        #expect(imported.conversation.createdAt == Date(timeIntervalSince1970: 1710000000))
        #expect(imported.messages[1].model == "llama3:8b")
    }

    @Test func libreChatNestedAndFlatExportsRead() throws {
        let (nestedFormat, nested) = try Self.conversation(ExportFixtures.libreChatNested)
        #expect(nestedFormat == .libreChat)
        #expect(nested.messages.map(\.content) == ["How do I index a column?", "Use CREATE INDEX.", "CREATE INDEX idx ON t (c);"])
        #expect(Self.active(nested) == ["How do I index a column?", "CREATE INDEX idx ON t (c);"], "the newest leaf")
        #expect(nested.messages.map(\.role) == [.user, .assistant, .assistant])
        let (_, flat) = try Self.conversation(ExportFixtures.libreChatFlat)
        #expect(Self.active(flat) == ["A haiku on rain", "Soft rain on the roof"])
        #expect(flat.messages[1].model == "claude-3-haiku" && flat.conversation.title == "Haiku")
    }

    @Test func timesInEveryUnitAndFormatAreRead() {
        let second = Date(timeIntervalSince1970: 1_710_000_000)
        for value: Any in [1_710_000_000, 1_710_000_000_000, 1_710_000_000_000_000_000, "2024-03-09T16:00:00Z",
                           "2024-03-09T16:00:00.000Z"] {
            #expect(ExportFormat.date(value) == second, "\(value)")
        }
        #expect(ExportFormat.date("yesterday") == nil && ExportFormat.date(nil) == nil)
    }

    @Test func aCycleOrAMissingParentDoesNotHang() throws {
        let object: [String: Any] = ["mapping": [
            "x": ["id": "x", "parent": "y", "message": ["author": ["role": "user"], "content": ["parts": ["loop x"]]]],
            "y": ["id": "y", "parent": "x", "message": ["author": ["role": "tool"], "content": ["parts": ["loop y"]]]],
            "z": ["id": "z", "parent": "gone", "message": ["author": ["role": "assistant"], "content": ["parts": ["orphan"]]]],
        ]]
        let imported = try #require(ExportFormat.chatGPT.read(object).conversationImport(owner: UserID("a")))
        #expect(Set(imported.messages.map(\.content)) == ["loop x", "orphan"])
        #expect(imported.messages.allSatisfy { $0.parentID == nil })

        // Two messages each naming the other as parent: both come in, the older one first.
        let loop: [String: Any] = ["mapping": [
            "p": ["id": "p", "parent": "q", "message": ["author": ["role": "user"], "create_time": 10, "content": ["parts": ["first"]]]],
            "q": ["id": "q", "parent": "p", "message": ["author": ["role": "assistant"], "create_time": 20, "content": ["parts": ["second"]]]],
        ]]
        let both = try #require(ExportFormat.chatGPT.read(loop).conversationImport(owner: UserID("a")))
        #expect(both.messages.map(\.content) == ["first", "second"])
        #expect(both.messages[0].parentID == nil && both.messages[1].parentID == both.messages[0].id)
        try both.validate()
    }
}
