import Foundation
import ParleyCore
import Testing

/// Branches, held to the same rules on every backend: an edit keeps the versions it replaces, pages and contexts
/// follow the active branch, and switching branch brings a version back with what followed it.
enum BranchStoreContract {
    static let owner = ConversationStoreContract.owner
    static let stranger = ConversationStoreContract.stranger

    static func replace(_ store: any ConversationStore, _ conversation: Conversation, _ replaced: Message,
                        with text: String) async throws -> Turn {
        let turn = try await store.startTurn(conversationID: conversation.id, owner: owner, userContent: text, model: "m",
                                             defaultModel: nil, historyLimit: 10, lease: .seconds(60),
                                             replacingFrom: replaced.index)
        _ = try await store.finishMessage(id: turn.assistant.id, MessageCompletion(content: "re \(text)", status: .complete))
        return turn
    }

    static func activeBranch(_ store: any ConversationStore, _ conversation: Conversation) async throws -> [Message] {
        try await store.messages(conversationID: conversation.id, owner: owner, before: nil, limit: 50).messages
    }

    static func editsKeepEveryVersionAndSwitchingBringsThemBack(_ store: any ConversationStore) async throws {
        let conversation = try await store.createConversation(NewConversation(title: "branches"), owner: owner)
        let turns = try await ConversationStoreContract.finishedTurns(store, conversation, ["one", "two", "three"])
        #expect(turns[1].user.parentID == turns[0].assistant.id, "a question follows the answer before it")
        #expect(turns[0].user.parentID == nil)
        let second = try await replace(store, conversation, turns[1].user, with: "two b")
        let third = try await replace(store, conversation, second.user, with: "two c")
        #expect(third.user.parentID == turns[0].assistant.id && third.history.map(\.message.content) == ["re one", "one"])

        var branch = try await activeBranch(store, conversation)
        #expect(branch.map(\.id) == [turns[0].user.id, turns[0].assistant.id, third.user.id, third.assistant.id])
        #expect(branch[2].siblingIDs == [turns[1].user.id, second.user.id, third.user.id], "the versions, oldest first")
        #expect(branch[0].siblingIDs.isEmpty && branch[3].siblingIDs.isEmpty)
        #expect(try await store.conversation(id: conversation.id, owner: owner).messageCount == 4)
        let kept = try await store.message(id: turns[2].assistant.id, owner: owner)
        #expect(kept.content == "re three" && !kept.onActiveBranch, "what followed the first version is kept, off the branch")

        // Back to the first version: what followed it comes back, and a new turn follows it.
        try await store.switchBranch(conversationID: conversation.id, owner: owner, to: turns[1].user.id)
        branch = try await activeBranch(store, conversation)
        #expect(branch.map(\.id) == turns.flatMap { [$0.user.id, $0.assistant.id] })
        #expect(branch.allSatisfy { $0.onActiveBranch })
        #expect(try await store.conversation(id: conversation.id, owner: owner).messageCount == 6)
        let next = try await store.startTurn(conversationID: conversation.id, owner: owner, userContent: "four", model: "m",
                                             defaultModel: nil, historyLimit: 10, lease: .seconds(60), replacingFrom: nil)
        #expect(next.user.parentID == turns[2].assistant.id)
        #expect(next.history.map(\.message.content) == ["re three", "three", "re two", "two", "re one", "one"])
        _ = try await store.finishMessage(id: next.assistant.id, MessageCompletion(content: "re four", status: .complete))
        let context = try await store.contextMessages(conversationID: conversation.id, before: next.user.index, limit: 20)
        #expect(!context.contains { $0.message.content.contains("two b") }, "another branch never reaches the context")

        // Switching to the middle version's answer activates its branch; an answer off the branch cannot be continued.
        try await store.switchBranch(conversationID: conversation.id, owner: owner, to: second.assistant.id)
        branch = try await activeBranch(store, conversation)
        #expect(branch.map(\.content) == ["one", "re one", "two b", "re two b"])
        await #expect(throws: ParleyError.self) { try await store.reopenAnswer(id: next.assistant.id, owner: owner, lease: .seconds(5)) }
        await #expect(throws: ParleyError.self, "a version off the active branch cannot be replaced") {
            try await replace(store, conversation, turns[1].user, with: "nope")
        }
        #expect(try await store.conversation(id: conversation.id, owner: owner).messageCount == 4)

        // The first message has versions too; switching among them keeps the tree.
        let root = try await replace(store, conversation, turns[0].user, with: "uno")
        branch = try await activeBranch(store, conversation)
        #expect(branch.map(\.content) == ["uno", "re uno"] && branch[0].siblingIDs == [turns[0].user.id, root.user.id])
        try await store.switchBranch(conversationID: conversation.id, owner: owner, to: turns[0].user.id)
        branch = try await activeBranch(store, conversation)
        #expect(branch.map(\.content) == ["one", "re one", "two c", "re two c"], "the newest version at each step down")

        // The whole tree, oldest first, paged forward.
        let first = try await store.messageTree(conversationID: conversation.id, owner: owner, after: 0, limit: 10)
        let rest = try await store.messageTree(conversationID: conversation.id, owner: owner,
                                               after: first.messages.last?.index ?? 0, limit: 10)
        #expect(first.hasMore && !rest.hasMore)
        let tree = first.messages + rest.messages
        #expect(tree.count == 14 && tree.map(\.index) == tree.map(\.index).sorted())
        #expect(tree.filter { $0.onActiveBranch }.map(\.content) == ["one", "re one", "two c", "re two c"])

        await #expect(throws: ParleyError.self, "another owner's conversation") {
            try await store.switchBranch(conversationID: conversation.id, owner: stranger, to: turns[1].user.id)
        }
        await #expect(throws: ParleyError.self) {
            try await store.messageTree(conversationID: conversation.id, owner: stranger, after: 0, limit: 10)
        }
        let other = try await store.createConversation(NewConversation(title: "other"), owner: owner)
        await #expect(throws: ParleyError.self, "a message of another conversation") {
            try await store.switchBranch(conversationID: other.id, owner: owner, to: turns[1].user.id)
        }
        #expect(try await activeBranch(store, conversation).map(\.content) == ["one", "re one", "two c", "re two c"])
    }
}
