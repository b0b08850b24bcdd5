import Foundation
import ParleyCore
import Testing

extension ConversationStoreContract {
    static func organisedConversationsAreListedApart(_ store: any ConversationStore) async throws {
        let plain = try await store.createConversation(NewConversation(title: "plain"), owner: owner)
        let pinned = try await store.createConversation(NewConversation(title: "pinned"), owner: owner)
        let archived = try await store.createConversation(NewConversation(title: "archived"), owner: owner)
        let marked = try await store.updateConversation(id: pinned.id, owner: owner,
                                                        patch: ConversationPatch(pinned: true, tags: ["work", "trips"]))
        #expect(marked.pinned && marked.tags == ["work", "trips"] && marked.archivedAt == nil)
        #expect(marked.updatedAt == pinned.updatedAt, "pinning and tagging do not move it in the list")
        let put = try await store.updateConversation(id: archived.id, owner: owner, patch: ConversationPatch(archived: true, tags: ["work"]))
        let archivedAt = try #require(put.archivedAt)
        let again = try await store.updateConversation(id: archived.id, owner: owner, patch: ConversationPatch(archived: true))
        #expect(again.archivedAt == archivedAt, "archiving again keeps the first time")

        func titles(_ query: ConversationQuery) async throws -> [String] {
            try await store.listConversations(owner: owner, query: query).items.map(\.title)
        }
        #expect(try await titles(ConversationQuery(limit: 10)) == ["pinned", "plain"])
        #expect(try await titles(ConversationQuery(limit: 10, pinned: true)) == ["pinned"])
        #expect(try await titles(ConversationQuery(limit: 10, pinned: false)) == ["plain"])
        #expect(try await titles(ConversationQuery(limit: 10, archived: true)) == ["archived"])
        #expect(try await titles(ConversationQuery(limit: 10, tag: "work")) == ["pinned"])
        #expect(try await titles(ConversationQuery(limit: 10, archived: true, tag: "work")) == ["archived"])
        #expect(try await titles(ConversationQuery(limit: 10, tag: "wor")).isEmpty, "a tag matches whole")
        #expect(try await store.listConversations(owner: stranger, query: ConversationQuery(limit: 10, pinned: true)).items.isEmpty)

        let restored = try await store.updateConversation(id: archived.id, owner: owner, patch: ConversationPatch(archived: false))
        #expect(restored.archivedAt == nil && restored.tags == ["work"])
        #expect(try await titles(ConversationQuery(limit: 10)).count == 3)
        _ = plain
    }

    static func generatedTitlesSpareTheUsers(_ store: any ConversationStore) async throws {
        let untitled = try await store.createConversation(NewConversation(), owner: owner)
        _ = try await store.appendTurn(conversationID: untitled.id, owner: owner, userContent: "first line", model: "m")
        #expect(try await store.setGeneratedTitle(conversationID: untitled.id, owner: owner, title: "Model's title"))
        #expect(try await store.conversation(id: untitled.id, owner: owner).title == "Model's title")
        #expect(try await !store.setGeneratedTitle(conversationID: untitled.id, owner: stranger, title: "x"))
        _ = try await store.updateConversation(id: untitled.id, owner: owner, patch: ConversationPatch(title: "Mine"))
        #expect(try await !store.setGeneratedTitle(conversationID: untitled.id, owner: owner, title: "Later"))
        let titled = try await store.createConversation(NewConversation(title: "Given"), owner: owner)
        #expect(try await !store.setGeneratedTitle(conversationID: titled.id, owner: owner, title: "Later"))
        #expect(try await store.conversation(id: untitled.id, owner: owner).title == "Mine")
    }

    static func parametersAreKeptAndRecordedOnAnswers(_ store: any ConversationStore) async throws {
        let parameters = ChatParameters(temperature: 0, topP: 0.5, maxTokens: 9, seed: 3, stop: ["END"], reasoningEffort: "low")
        let conversation = try await store.createConversation(NewConversation(parameters: parameters), owner: owner)
        #expect(try await store.conversation(id: conversation.id, owner: owner).parameters == parameters)
        let turn = try await store.startTurn(conversationID: conversation.id, owner: owner, userContent: "q", model: "m",
                                             defaultModel: nil, historyLimit: 10, lease: .seconds(60))
        #expect(turn.parameters == parameters && turn.assistant.parameters == parameters && turn.user.parameters == nil)
        let done = try await store.finishMessage(id: turn.assistant.id, MessageCompletion(content: "a", status: .complete, cache: "hit"))
        #expect(done.cache == "hit" && done.parameters == parameters)
        let read = try await store.message(id: turn.assistant.id, owner: owner)
        #expect(read.cache == "hit" && read.parameters == parameters)
        let cleared = try await store.updateConversation(id: conversation.id, owner: owner, patch: ConversationPatch(parameters: ChatParameters()))
        #expect(cleared.parameters.isEmpty)
        let next = try await store.startTurn(conversationID: conversation.id, owner: owner, userContent: "q2", model: "m",
                                             defaultModel: nil, historyLimit: 10, lease: .seconds(60))
        #expect(next.parameters.isEmpty && next.assistant.parameters == nil)
    }

    static func retrievalSettingsAreKeptAndReadWithEachTurn(_ store: any ConversationStore) async throws {
        let settings = RetrievalSettings(passages: 3, minimumSimilarity: 0.55, rerank: false)
        let conversation = try await store.createConversation(NewConversation(retrieval: settings), owner: owner)
        #expect(conversation.retrieval == settings)
        #expect(try await store.conversation(id: conversation.id, owner: owner).retrieval == settings)
        #expect(try await store.listConversations(owner: owner, query: ConversationQuery(limit: 5)).items.first?.retrieval == settings)
        let turn = try await store.startTurn(conversationID: conversation.id, owner: owner, userContent: "q", model: "m",
                                             defaultModel: nil, historyLimit: 10, lease: .seconds(60))
        #expect(turn.retrieval == settings)
        // Changing something else leaves them; replacing them replaces all three; empty restores the defaults.
        _ = try await store.updateConversation(id: conversation.id, owner: owner, patch: ConversationPatch(title: "Renamed"))
        #expect(try await store.conversation(id: conversation.id, owner: owner).retrieval == settings)
        let more = RetrievalSettings(passages: 20)
        #expect(try await store.updateConversation(id: conversation.id, owner: owner, patch: ConversationPatch(retrieval: more)).retrieval == more)
        let cleared = try await store.updateConversation(id: conversation.id, owner: owner, patch: ConversationPatch(retrieval: RetrievalSettings()))
        #expect(cleared.retrieval.isEmpty)
        _ = try await store.finishMessage(id: turn.assistant.id, MessageCompletion(content: "a", status: .complete))
        let next = try await store.startTurn(conversationID: conversation.id, owner: owner, userContent: "q2", model: "m",
                                             defaultModel: nil, historyLimit: 10, lease: .seconds(60))
        #expect(next.retrieval.isEmpty)
        #expect(try await store.createConversation(NewConversation(), owner: owner).retrieval.isEmpty)
    }

    static func savedPromptsBelongToTheirOwner(_ conversations: any ConversationStore) async throws {
        let store = try #require(conversations as? any PromptStore)
        let first = try await store.createPrompt(PromptDraft(command: "sum", title: "Summary", content: "Sum {{x}}"), owner: owner, maxPerUser: 2)
        #expect(first.variables == ["x"])
        await #expect(throws: ParleyError.self) {
            try await store.createPrompt(PromptDraft(command: "sum", title: "", content: "again"), owner: owner, maxPerUser: 2)
        }
        let other = try await store.createPrompt(PromptDraft(command: "sum", title: "", content: "his"), owner: stranger, maxPerUser: 2)
        let second = try await store.createPrompt(PromptDraft(command: "ask", title: "", content: "Ask"), owner: owner, maxPerUser: 2)
        await #expect(throws: ParleyError.self) {
            try await store.createPrompt(PromptDraft(command: "third", title: "", content: "x"), owner: owner, maxPerUser: 2)
        }
        #expect(try await store.prompts(owner: owner).map(\.command) == ["ask", "sum"])
        await #expect(throws: ParleyError.self) { try await store.updatePrompt(id: second.id, owner: owner, draft: PromptDraft(command: "sum")) }
        await #expect(throws: ParleyError.self) { try await store.updatePrompt(id: first.id, owner: stranger, draft: PromptDraft(title: "x")) }
        let changed = try await store.updatePrompt(id: first.id, owner: owner, draft: PromptDraft(command: "summary", content: "New"))
        #expect(changed.command == "summary" && changed.title == "Summary" && changed.content == "New")
        await #expect(throws: ParleyError.self) { try await store.deletePrompt(id: first.id, owner: stranger) }
        try await store.deletePrompt(id: first.id, owner: owner)
        #expect(try await store.prompts(owner: owner).map(\.id) == [second.id])
        #expect(try await store.prompts(owner: stranger).map(\.id) == [other.id])
    }
}
