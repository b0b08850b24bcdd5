import Foundation
import ParleyServer
import Testing

/// Model-written titles through the real server: after the first answer a model names the conversation (the
/// configured one, or the chat's own), unless the user named it; a failure leaves the first-line title.
@Suite struct ConversationTitleTests {
    static func waitForTitle(_ parley: TestParley, _ id: String, until condition: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let title = try await parley.request(.GET, "/api/v1/conversations/\(id)").json["title"] as? String ?? ""
            if condition(title) || ContinuousClock.now > deadline { return title }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func title(_ parley: TestParley, _ id: String) async throws -> String {
        try await parley.request(.GET, "/api/v1/conversations/\(id)").json["title"] as? String ?? ""
    }

    @Test func aModelNamesTheConversationAfterItsFirstAnswerUnlessTheUserDid() async throws {
        try await TestParley.with(configure: { $0.titles = .model("mock-2") }) { parley in
            let id = try await parley.createConversation()
            let first = "Where should I go for a long weekend in Portugal? mock:tokens=5"
            _ = try await parley.chat(id, first)
            // The mock answers the title request with its words, cleaned into a title.
            let named = try await Self.waitForTitle(parley, id) { $0.hasPrefix("Lorem") }
            #expect(named.hasPrefix("Lorem ipsum dolor sit amet") && named.count <= 80 && !named.hasSuffix(".") && !named.hasSuffix(","), "\(named)")
            let search = try await parley.request(.GET, "/api/v1/conversations?q=lorem")
            #expect((search.json["data"] as? [[String: Any]])?.first?["id"] as? String == id, "the new title is searchable")
            // Only the first exchange names it.
            _ = try await parley.request(.PATCH, "/api/v1/conversations/\(id)", body: #"{"title":"Portugal"}"#)
            _ = try await parley.chat(id, "And in winter? mock:tokens=3")
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await Self.title(parley, id) == "Portugal")

            // Named by the user before the answer: kept.
            let named2 = try await parley.createConversation(#"{"title":"My trip"}"#)
            _ = try await parley.chat(named2, "Hello there mock:tokens=3")
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await Self.title(parley, named2) == "My trip")
        }
    }

    @Test func withoutAWorkingTitleModelTheFirstLineStays() async throws {
        try await TestParley.with(configure: { $0.titles = .model("no-such-model") }) { parley in
            let id = try await parley.createConversation()
            _ = try await parley.chat(id, "Plan a picnic mock:tokens=3")
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await Self.title(parley, id) == "Plan a picnic mock:tokens=3")
        }
        try await TestParley.with(configure: { $0.titles = .off }) { parley in
            let id = try await parley.createConversation()
            _ = try await parley.chat(id, "Plan a party mock:tokens=3")
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await Self.title(parley, id) == "Plan a party mock:tokens=3")
        }
    }
}
