import Foundation
import ParleyCore
import ParleyRetrieval
import Testing

extension KnowledgeStoreContract {
    static func visitorChats(_ knowledge: Store) async throws {
        let assistants = try #require(knowledge as? any AssistantStore)
        let visitors = try #require(knowledge as? any VisitorChatStore)
        let conversations = try #require(knowledge as? any ConversationStore)
        let slug = "pub" + String(UUID().uuidString.prefix(8))
        let created = try await assistants.createAssistant(AssistantSettings(name: "Desk", systemPrompt: "Be kind."),
                                                           owner: alice, maxPerUser: 10)
        #expect(created.publicSlug == nil)
        await #expect(throws: ParleyError.self) { try await visitors.publishedAssistant(slug: slug) }
        let published = try await assistants.updateAssistant(id: created.id, owner: alice,
                                                              settings: AssistantSettings(publicSlug: .some(slug)))
        #expect(published.publicSlug == slug && published.name == "Desk" && published.embedOrigins.isEmpty)
        #expect(try await visitors.publishedAssistant(slug: slug) == published)
        // The sites that may frame its page are kept in order, replaced whole, and left alone by other changes.
        let sites = ["https://shop.example.com", "https://*.example.org"]
        let limited = try await assistants.updateAssistant(id: created.id, owner: alice, settings: AssistantSettings(embedOrigins: sites))
        #expect(limited.embedOrigins == sites && limited.publicSlug == slug)
        #expect(try await assistants.updateAssistant(id: created.id, owner: alice, settings: AssistantSettings(name: "Desk"))
            .embedOrigins == sites)
        #expect(try await visitors.publishedAssistant(slug: slug).embedOrigins == sites)
        _ = try await assistants.updateAssistant(id: created.id, owner: alice, settings: AssistantSettings(embedOrigins: []))
        let withSites = try await assistants.createAssistant(AssistantSettings(name: "Framed", embedOrigins: ["http://localhost:3000"]),
                                                             owner: alice, maxPerUser: 10)
        #expect(try await assistants.assistant(id: withSites.id, owner: alice).embedOrigins == ["http://localhost:3000"])
        try await assistants.deleteAssistant(id: withSites.id, owner: alice)

        let chat = try await visitors.startVisitorChat(
            NewConversation(systemPrompt: "Be kind.", retrieval: RetrievalSettings(passages: 2)), assistant: published,
            tokenDigest: "digest-1")
        #expect(chat.conversation.retrieval == RetrievalSettings(passages: 2))
        #expect(try await conversations.conversation(id: chat.conversation.id, owner: alice).retrieval.passages == 2)
        #expect(chat.conversation.ownerID == alice && chat.assistantID == created.id && chat.handoff == nil)
        let own = try await conversations.createConversation(NewConversation(title: "mine"), owner: alice)
        #expect(try await visitors.visitorChat(id: chat.conversation.id, tokenDigest: "digest-1").conversation.systemPrompt == "Be kind.")
        await #expect(throws: ParleyError.self) { try await visitors.visitorChat(id: chat.conversation.id, tokenDigest: "digest-2") }
        await #expect(throws: ParleyError.self) { try await visitors.visitorChat(id: own.id, tokenDigest: "digest-1") }

        // The owner's list leaves it out; the assistant's list has it, with ratings and the request for a person.
        #expect(try await conversations.listConversations(owner: alice, query: ConversationQuery(limit: 10)).items.map(\.id) == [own.id])
        let turn = try await conversations.appendTurn(conversationID: chat.conversation.id, owner: alice, userContent: "Hello?",
                                                      model: "mock-1")
        _ = try await conversations.finishMessage(id: turn.assistant.id, MessageCompletion(content: "Hi.", status: .complete))
        _ = try await conversations.setFeedback(messageID: turn.assistant.id, owner: alice, rating: -1, comment: nil)
        let handoff = try await visitors.requestHandoff(chatID: chat.conversation.id, tokenDigest: "digest-1", email: "v@example.org",
                                                        note: "please call")
        await #expect(throws: ParleyError.self) {
            try await visitors.requestHandoff(chatID: chat.conversation.id, tokenDigest: "digest-2", email: "x@example.org", note: "")
        }
        let second = try await visitors.startVisitorChat(NewConversation(), assistant: published, tokenDigest: "digest-3")
        let first = try await visitors.visitorChats(assistantID: created.id, owner: alice, limit: 1, after: nil)
        #expect(first.items.map(\.conversation.id) == [second.conversation.id] && first.nextCursor != nil)
        let cursor = try #require(first.nextCursor.flatMap(ConversationCursor.init(token:)))
        let rest = try await visitors.visitorChats(assistantID: created.id, owner: alice, limit: 1, after: cursor)
        let listed = try #require(rest.items.first)
        #expect(rest.items.count == 1 && rest.nextCursor == nil && listed.conversation.id == chat.conversation.id)
        #expect(listed.handoff == handoff && listed.thumbsDown == 1 && listed.thumbsUp == 0 && listed.conversation.messageCount == 2)
        #expect(try await visitors.visitorChats(assistantID: created.id, owner: bob, limit: 10, after: nil).items.isEmpty)

        // Withdrawn: the address and the chat close to visitors; deleting the assistant deletes its visitors' chats.
        _ = try await assistants.updateAssistant(id: created.id, owner: alice, settings: AssistantSettings(publicSlug: .some(nil)))
        await #expect(throws: ParleyError.self) { try await visitors.publishedAssistant(slug: slug) }
        await #expect(throws: ParleyError.self) { try await visitors.visitorChat(id: chat.conversation.id, tokenDigest: "digest-1") }
        await #expect(throws: ParleyError.self) {
            try await visitors.startVisitorChat(NewConversation(), assistant: published, tokenDigest: "digest-4")
        }
        #expect(try await conversations.conversation(id: chat.conversation.id, owner: alice).messageCount == 2, "kept for the owner")
        try await assistants.deleteAssistant(id: created.id, owner: alice)
        await #expect(throws: ParleyError.self) { try await conversations.conversation(id: chat.conversation.id, owner: alice) }
        #expect(try await conversations.conversation(id: own.id, owner: alice).title == "mine")
    }
}
