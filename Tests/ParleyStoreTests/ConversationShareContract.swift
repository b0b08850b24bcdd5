import Foundation
import ParleyCore
import Testing

extension ConversationStoreContract {
    static func sharedLinksShowTheConversationAsShared(_ conversations: any ConversationStore) async throws {
        let store = try #require(conversations as? any ConversationShareStore)
        let chat = try await conversations.createConversation(NewConversation(title: "trip"), owner: owner)
        await #expect(throws: ParleyError.self, "nothing to share yet") {
            try await store.createShare(conversationID: chat.id, owner: owner, audience: .anyone, tokenDigest: "d0", maxPerConversation: 2)
        }
        let turn = try await conversations.appendTurn(conversationID: chat.id, owner: owner, userContent: "where to?", model: "m")
        _ = try await conversations.finishMessage(id: turn.assistant.id, MessageCompletion(content: "Zanzibar", status: .complete))
        await #expect(throws: ParleyError.self, "another owner cannot share it") {
            try await store.createShare(conversationID: chat.id, owner: stranger, audience: .anyone, tokenDigest: "d1", maxPerConversation: 2)
        }
        let first = try await store.createShare(conversationID: chat.id, owner: owner, audience: .anyone, tokenDigest: "d1",
                                                maxPerConversation: 2)
        #expect(first.throughIndex == turn.assistant.index && first.audience == .anyone)
        _ = try await conversations.appendTurn(conversationID: chat.id, owner: owner, userContent: "after sharing", model: "m")
        let second = try await store.createShare(conversationID: chat.id, owner: owner, audience: .signedIn, tokenDigest: "d2",
                                                 maxPerConversation: 2)
        #expect(second.throughIndex == first.throughIndex + 2)
        await #expect(throws: ParleyError.self, "at most two here") {
            try await store.createShare(conversationID: chat.id, owner: owner, audience: .anyone, tokenDigest: "d3", maxPerConversation: 2)
        }
        #expect(try await store.shares(conversationID: chat.id, owner: owner).map(\.id) == [second.id, first.id])
        await #expect(throws: ParleyError.self) { try await store.shares(conversationID: chat.id, owner: stranger) }

        let found = try await store.sharedConversation(tokenDigest: "d1")
        #expect(found.share == first && found.ownerID == owner && found.title == "trip")
        await #expect(throws: ParleyError.self) { try await store.sharedConversation(tokenDigest: "d9") }

        await #expect(throws: ParleyError.self, "a stranger cannot revoke it") {
            try await store.deleteShare(id: first.id, conversationID: chat.id, owner: stranger)
        }
        let other = try await conversations.createConversation(NewConversation(title: "other"), owner: owner)
        await #expect(throws: ParleyError.self, "nor through another conversation") {
            try await store.deleteShare(id: first.id, conversationID: other.id, owner: owner)
        }
        try await store.deleteShare(id: first.id, conversationID: chat.id, owner: owner)
        await #expect(throws: ParleyError.self, "a revoked link is gone") { try await store.sharedConversation(tokenDigest: "d1") }
        try await conversations.deleteConversation(id: chat.id, owner: owner)
        await #expect(throws: ParleyError.self, "deleting the conversation deletes its links") {
            try await store.sharedConversation(tokenDigest: "d2")
        }
    }
}
