import Foundation
import ParleyCore
import Testing

/// The behaviour every ``ConversationStore`` backend must show. Each backend's suite runs every check
/// against a fresh, migrated store.
enum ConversationStoreContract {
    static let owner = UserID("alice")
    static let stranger = UserID("mallory")

    static func createGetUpdateDelete(_ store: any ConversationStore) async throws {
        let created = try await store.createConversation(
            NewConversation(title: "Trip", model: "m1", systemPrompt: "Be brief."), owner: owner)
        let fetched = try await store.conversation(id: created.id, owner: owner)
        #expect(fetched == created)
        #expect(fetched.title == "Trip" && fetched.model == "m1" && fetched.systemPrompt == "Be brief.")

        let renamed = try await store.updateConversation(id: created.id, owner: owner,
                                                          patch: ConversationPatch(title: "Paris trip"))
        #expect(renamed.title == "Paris trip")
        #expect(renamed.model == "m1", "fields not in the patch stay")
        #expect(renamed.updatedAt >= created.updatedAt)

        let cleared = try await store.updateConversation(id: created.id, owner: owner,
                                                          patch: ConversationPatch(model: .some(nil), systemPrompt: .some(nil)))
        #expect(cleared.model == nil && cleared.systemPrompt == nil && cleared.title == "Paris trip")

        try await store.deleteConversation(id: created.id, owner: owner)
        await #expect(throws: ParleyError.notFound("no conversation with id \(created.id.lowercased)")) {
            try await store.conversation(id: created.id, owner: owner)
        }
        await #expect(throws: ParleyError.self) { try await store.deleteConversation(id: created.id, owner: owner) }
    }

    static func otherOwnersSeeNothing(_ store: any ConversationStore) async throws {
        let conversation = try await store.createConversation(NewConversation(title: "secret"), owner: owner)
        let turn = try await store.appendTurn(conversationID: conversation.id, owner: owner, userContent: "hi", model: "m")
        await #expect(throws: ParleyError.self) { try await store.conversation(id: conversation.id, owner: stranger) }
        await #expect(throws: ParleyError.self) {
            try await store.messages(conversationID: conversation.id, owner: stranger, before: nil, limit: 10)
        }
        await #expect(throws: ParleyError.self) { try await store.message(id: turn.user.id, owner: stranger) }
        await #expect(throws: ParleyError.self) {
            try await store.appendTurn(conversationID: conversation.id, owner: stranger, userContent: "x", model: "m")
        }
        await #expect(throws: ParleyError.self) {
            try await store.setFeedback(messageID: turn.assistant.id, owner: stranger, rating: 1, comment: nil)
        }
        await #expect(throws: ParleyError.self) { try await store.deleteConversation(id: conversation.id, owner: stranger) }
        await #expect(throws: ParleyError.self) { try await store.clearMessages(conversationID: conversation.id, owner: stranger) }
        let page = try await store.listConversations(owner: stranger, query: ConversationQuery(limit: 10))
        #expect(page.items.isEmpty)
        #expect(try await store.messages(conversationID: conversation.id, owner: owner, before: nil, limit: 10).messages.count == 2)
    }

    static func listNewestFirstWithCursorPagingAndSearch(_ store: any ConversationStore) async throws {
        var ids: [UUID] = []
        for index in 0..<7 {
            let conversation = try await store.createConversation(
                NewConversation(title: index % 2 == 0 ? "Even 100% #\(index)" : "odd_\(index)"), owner: owner)
            ids.append(conversation.id)
        }
        // Touch the oldest one: it becomes the newest (a few ms later, so no timestamp ties it).
        try await Task.sleep(for: .milliseconds(3))
        _ = try await store.appendTurn(conversationID: ids[0], owner: owner, userContent: "bump", model: "m")
        let expected = [ids[0]] + ids.dropFirst().reversed()

        var seen: [UUID] = []
        var cursor: ConversationCursor?
        repeat {
            let page = try await store.listConversations(owner: owner, query: ConversationQuery(limit: 3, after: cursor))
            #expect(page.items.count <= 3)
            seen += page.items.map(\.id)
            cursor = page.nextCursor.flatMap(ConversationCursor.init(token:))
            if page.nextCursor != nil { #expect(cursor != nil) }
        } while cursor != nil
        #expect(seen == expected)

        let evens = try await store.listConversations(owner: owner, query: ConversationQuery(limit: 10, search: "even 100%"))
        #expect(evens.items.count == 4)
        let literalUnderscore = try await store.listConversations(owner: owner, query: ConversationQuery(limit: 10, search: "_"))
        #expect(literalUnderscore.items.count == 3, "'_' matches itself, not any character")
    }

    static func turnsGetConsecutiveIndexesAndTitleTheConversation(_ store: any ConversationStore) async throws {
        let conversation = try await store.createConversation(NewConversation(), owner: owner)
        let first = try await store.appendTurn(conversationID: conversation.id, owner: owner,
                                               userContent: "What is the capital of France?\nThanks", model: "m")
        #expect(first.user.index == 1 && first.assistant.index == 2)
        #expect(first.user.role == .user && first.user.status == .complete)
        #expect(first.assistant.role == .assistant && first.assistant.status == .streaming)
        #expect(first.assistant.parentID == first.user.id)
        #expect(first.assistant.model == "m")
        let second = try await store.appendTurn(conversationID: conversation.id, owner: owner, userContent: "And Spain?", model: "m")
        #expect(second.user.index == 3 && second.assistant.index == 4)
        let reloaded = try await store.conversation(id: conversation.id, owner: owner)
        #expect(reloaded.title == "What is the capital of France?", "the first line of the first message")
        #expect(reloaded.messageCount == 4)
        // Markdown that starts a line is not part of a title; a fence is skipped.
        for (content, title) in [("## Plan\nmore", "Plan"), ("\n```swift\nlet x = 1\n```", "let x = 1"),
                                 ("> - quoted item", "quoted item"), ("#hashtag", "hashtag"), ("-1 degrees", "-1 degrees")] {
            let titled = try await store.createConversation(NewConversation(), owner: owner)
            _ = try await store.appendTurn(conversationID: titled.id, owner: owner, userContent: content, model: "m")
            #expect(try await store.conversation(id: titled.id, owner: owner).title == title, "\(content)")
        }
        await #expect(throws: ParleyError.self) {
            try await store.appendTurn(conversationID: UUID.v7(), owner: owner, userContent: "x", model: "m")
        }
    }

    static func concurrentTurnsLoseNothing(_ store: any ConversationStore) async throws {
        let conversation = try await store.createConversation(NewConversation(title: "busy"), owner: owner)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask {
                    _ = try await store.appendTurn(conversationID: conversation.id, owner: owner,
                                                   userContent: "message \(index)", model: "m")
                }
            }
            try await group.waitForAll()
        }
        let page = try await store.messages(conversationID: conversation.id, owner: owner, before: nil, limit: 200)
        #expect(page.messages.count == 100)
        #expect(page.messages.map(\.index) == Array(1...100))
        let contents = Set(page.messages.filter { $0.role == .user }.map(\.content))
        #expect(contents == Set((0..<50).map { "message \($0)" }))
        #expect(try await store.conversation(id: conversation.id, owner: owner).messageCount == 100)
        // One branch: each message follows the one before it, though the turns raced (no accidental versions).
        #expect(zip(page.messages.dropFirst(), page.messages).allSatisfy { $0.parentID == $1.id })
        #expect(page.messages.allSatisfy { $0.siblingIDs.isEmpty })
    }

    static func messagesArePagedBackwardsByIndex(_ store: any ConversationStore) async throws {
        let conversation = try await store.createConversation(NewConversation(), owner: owner)
        for index in 0..<10 {
            _ = try await store.appendTurn(conversationID: conversation.id, owner: owner, userContent: "q\(index)", model: "m")
        }
        let latest = try await store.messages(conversationID: conversation.id, owner: owner, before: nil, limit: 6)
        #expect(latest.messages.map(\.index) == Array(15...20))
        #expect(latest.hasMore)
        let older = try await store.messages(conversationID: conversation.id, owner: owner, before: 15, limit: 6)
        #expect(older.messages.map(\.index) == Array(9...14))
        let oldest = try await store.messages(conversationID: conversation.id, owner: owner, before: 3, limit: 6)
        #expect(oldest.messages.map(\.index) == [1, 2])
        #expect(!oldest.hasMore)
        let exact = try await store.messages(conversationID: conversation.id, owner: owner, before: 7, limit: 6)
        #expect(exact.messages.map(\.index) == Array(1...6) && !exact.hasMore)

        // Forward, from any index toward the newest (opening a conversation at a search hit).
        func after(_ index: Int, limit: Int = 6, as user: UserID = owner) async throws -> MessagePage {
            try await store.messages(conversationID: conversation.id, owner: user, window: .after(index), limit: limit)
        }
        let first = try await after(0)
        #expect(first.messages.map(\.index) == Array(1...6) && first.hasMore)
        let middle = try await after(6)
        #expect(middle.messages.map(\.index) == Array(7...12) && middle.hasMore)
        let last = try await after(14)
        #expect(last.messages.map(\.index) == Array(15...20) && !last.hasMore, "exactly the rest: nothing beyond")
        #expect(try await after(20).messages.isEmpty)
        _ = try await store.setFeedback(messageID: last.messages[1].id, owner: owner, rating: 1, comment: "ok")
        let rated = try await after(15, limit: 1).messages.first
        #expect(rated?.index == 16 && rated?.feedback?.rating == 1 && rated?.feedback?.comment == "ok", "feedback comes along")
        await #expect(throws: ParleyError.self) { try await after(0, as: stranger) }
    }

    static func generationLifecycle(_ store: any ConversationStore) async throws {
        let conversation = try await store.createConversation(NewConversation(), owner: owner)
        let turn = try await store.appendTurn(conversationID: conversation.id, owner: owner, userContent: "hi", model: "m")
        try await store.savePartialContent([(turn.assistant.id, "Hel")])
        #expect(try await store.message(id: turn.assistant.id, owner: owner).content == "Hel")
        try await store.savePartialContent([PartialAnswer(id: turn.assistant.id, content: "Hel", reasoning: "Greet them")])
        try await store.savePartialContent([(turn.assistant.id, "Hell")])
        let partial = try await store.message(id: turn.assistant.id, owner: owner)
        #expect(partial.content == "Hell" && partial.reasoning == "Greet them", "saved reasoning stays until replaced")
        let finished = try await store.finishMessage(id: turn.assistant.id, MessageCompletion(
            content: "Hello!", status: .complete, promptTokens: 5, completionTokens: 2, timeToFirstTokenMs: 12,
            latencyMs: 40))
        #expect(finished.content == "Hello!" && finished.status == .complete)
        #expect(finished.promptTokens == 5 && finished.completionTokens == 2)
        #expect(finished.timeToFirstTokenMs == 12 && finished.latencyMs == 40)
        #expect(finished.reasoning == nil && finished.finishReason == nil)
        // A late partial write never overwrites a finished message.
        try await store.savePartialContent([(turn.assistant.id, "Hel")])
        #expect(try await store.message(id: turn.assistant.id, owner: owner).content == "Hello!")

        let failed = try await store.appendTurn(conversationID: conversation.id, owner: owner, userContent: "again", model: "m")
        let errored = try await store.finishMessage(id: failed.assistant.id, MessageCompletion(
            content: "par", status: .error, errorMessage: "upstream returned HTTP 500"))
        #expect(errored.status == .error && errored.errorMessage == "upstream returned HTTP 500" && errored.content == "par")

        // A reasoning model's answer keeps its reasoning apart, with its duration and why it ended.
        let reasoned = try await store.appendTurn(conversationID: conversation.id, owner: owner, userContent: "why?", model: "m")
        _ = try await store.finishMessage(id: reasoned.assistant.id, MessageCompletion(
            content: "Because.", status: .complete, reasoning: "First, consider…", reasoningMs: 1234, finishReason: "length"))
        let stored = try await store.message(id: reasoned.assistant.id, owner: owner)
        #expect(stored.content == "Because." && stored.reasoning == "First, consider…" && stored.reasoningMs == 1234)
        #expect(stored.finishReason == "length")
        let page = try await store.messages(conversationID: conversation.id, owner: owner, window: .newest, limit: 10)
        #expect(page.messages.last?.reasoning == "First, consider…" && page.messages.last?.finishReason == "length")

        // The newest answer reopens for a continuation, once; nothing else does, and nobody else's.
        await #expect(throws: ParleyError.self) { try await store.reopenAnswer(id: reasoned.assistant.id, owner: stranger, lease: .seconds(30)) }
        let reopened = try await store.reopenAnswer(id: reasoned.assistant.id, owner: owner, lease: .seconds(30))
        #expect(reopened.status == .streaming && reopened.content == "Because." && reopened.finishReason == nil)
        #expect(reopened.reasoning == "First, consider…", "the text and reasoning so far stay")
        #expect(try await store.renewLeases([reopened.id], for: .seconds(30)) == [reopened.id: .streaming], "it holds a lease")
        for (id, why) in [(reasoned.assistant.id, "still streaming"), (reasoned.user.id, "a user message"),
                          (failed.assistant.id, "not the newest")] {
            do {
                _ = try await store.reopenAnswer(id: id, owner: owner, lease: .seconds(30))
                Issue.record("reopened: \(why)")
            } catch ParleyError.conflict {
            }
        }
    }

    static func expiredLeasesAreReapedLiveOnesKept(_ store: any ConversationStore) async throws {
        let conversation = try await store.createConversation(NewConversation(), owner: owner)
        let dead = try await store.appendTurn(conversationID: conversation.id, owner: owner, userContent: "hi",
                                              model: "m", lease: .milliseconds(50))
        let live = try await store.appendTurn(conversationID: conversation.id, owner: owner, userContent: "again",
                                              model: "m", lease: .milliseconds(50))
        try await store.savePartialContent([(dead.assistant.id, "partial")])
        #expect(try await store.renewLeases([live.assistant.id], for: .seconds(60)) == [live.assistant.id: .streaming])
        try await Task.sleep(for: .milliseconds(120))

        let reaped = try await store.interruptExpiredGenerations()
        #expect(reaped.contains(dead.assistant.id) && !reaped.contains(live.assistant.id))
        let message = try await store.message(id: dead.assistant.id, owner: owner)
        #expect(message.status == .interrupted && message.content == "partial" && message.errorMessage != nil)
        #expect(try await store.message(id: dead.user.id, owner: owner).content == "hi")
        #expect(try await store.message(id: live.assistant.id, owner: owner).status == .streaming)
        #expect(try await store.interruptExpiredGenerations().isEmpty, "reaping twice finds nothing")

        // Renewal reports what ended elsewhere and what no longer exists.
        let statuses = try await store.renewLeases([dead.assistant.id, live.assistant.id, UUID.v7()], for: .seconds(60))
        #expect(statuses == [dead.assistant.id: .interrupted, live.assistant.id: .streaming])
        // A finished message holds no lease.
        _ = try await store.finishMessage(id: live.assistant.id, MessageCompletion(content: "done", status: .complete))
        #expect(try await store.renewLeases([live.assistant.id], for: .seconds(60)) == [live.assistant.id: .complete])
    }

    static func endStreamingOnlyEndsStreamingMessages(_ store: any ConversationStore) async throws {
        let conversation = try await store.createConversation(NewConversation(), owner: owner)
        let turn = try await store.appendTurn(conversationID: conversation.id, owner: owner, userContent: "hi", model: "m")
        try await store.savePartialContent([(turn.assistant.id, "so far")])
        #expect(try await store.endStreaming(id: turn.assistant.id, status: .cancelled, errorMessage: nil))
        let message = try await store.message(id: turn.assistant.id, owner: owner)
        #expect(message.status == .cancelled && message.content == "so far")
        #expect(try await store.endStreaming(id: turn.assistant.id, status: .interrupted, errorMessage: "x") == false)
        #expect(try await store.message(id: turn.assistant.id, owner: owner).status == .cancelled)

        // The replica that ran it may still store its fuller text; search then knows the new text, once.
        func hits(_ word: String) async throws -> [UUID] {
            try await store.search(owner: owner, terms: try #require(SearchTerms(word)), limit: 10, offset: 0).messages
                .map(\.messageID)
        }
        #expect(try await hits("far") == [turn.assistant.id])
        _ = try await store.finishMessage(id: turn.assistant.id, MessageCompletion(content: "so far and further",
                                                                                     status: .cancelled))
        #expect(try await hits("further") == [turn.assistant.id])
        #expect(try await hits("far") == [turn.assistant.id])
    }

    static func feedbackOnAssistantMessagesOnly(_ store: any ConversationStore) async throws {
        let conversation = try await store.createConversation(NewConversation(), owner: owner)
        let turn = try await store.appendTurn(conversationID: conversation.id, owner: owner, userContent: "hi", model: "m")
        let first = try await store.setFeedback(messageID: turn.assistant.id, owner: owner, rating: 1, comment: "good")
        #expect(first.rating == 1 && first.comment == "good")
        _ = try await store.setFeedback(messageID: turn.assistant.id, owner: owner, rating: -1, comment: nil)
        let message = try await store.message(id: turn.assistant.id, owner: owner)
        #expect(message.feedback?.rating == -1 && message.feedback?.comment == nil)
        let listed = try await store.messages(conversationID: conversation.id, owner: owner, before: nil, limit: 10)
        #expect(listed.messages.last?.feedback?.rating == -1)
        await #expect(throws: ParleyError.self) {
            try await store.setFeedback(messageID: turn.user.id, owner: owner, rating: 1, comment: nil)
        }
        await #expect(throws: ParleyError.self) {
            try await store.setFeedback(messageID: turn.assistant.id, owner: owner, rating: 2, comment: nil)
        }
        await #expect(throws: ParleyError.self) {
            try await store.setFeedback(messageID: UUID.v7(), owner: owner, rating: 1, comment: nil)
        }
        try await store.deleteFeedback(messageID: turn.assistant.id, owner: owner)
        #expect(try await store.message(id: turn.assistant.id, owner: owner).feedback == nil)
    }

    static func clearingKeepsTheConversation(_ store: any ConversationStore) async throws {
        let conversation = try await store.createConversation(NewConversation(title: "keep"), owner: owner)
        let turn = try await store.appendTurn(conversationID: conversation.id, owner: owner, userContent: "hi", model: "m")
        _ = try await store.setFeedback(messageID: turn.assistant.id, owner: owner, rating: 1, comment: nil)
        try await store.clearMessages(conversationID: conversation.id, owner: owner)
        let page = try await store.messages(conversationID: conversation.id, owner: owner, before: nil, limit: 10)
        #expect(page.messages.isEmpty && !page.hasMore)
        let kept = try await store.conversation(id: conversation.id, owner: owner)
        #expect(kept.title == "keep" && kept.messageCount == 0)
        let next = try await store.appendTurn(conversationID: conversation.id, owner: owner, userContent: "again", model: "m")
        #expect(next.user.index == 3, "indexes are never reused")
        await #expect(throws: ParleyError.self) { try await store.message(id: turn.user.id, owner: owner) }
    }

    /// Turns with the given questions, each answered "re <question>".
    static func finishedTurns(_ store: any ConversationStore, _ conversation: Conversation, _ questions: [String])
        async throws -> [(user: Message, assistant: Message)]
    {
        var turns: [(user: Message, assistant: Message)] = []
        for text in questions {
            let turn = try await store.appendTurn(conversationID: conversation.id, owner: owner, userContent: text, model: "m")
            _ = try await store.finishMessage(id: turn.assistant.id, MessageCompletion(content: "re \(text)", status: .complete))
            turns.append(turn)
        }
        return turns
    }

    static func deletingFromAnIndexKeepsWhatCameBefore(_ store: any ConversationStore) async throws {
        let conversation = try await store.createConversation(NewConversation(title: "edits"), owner: owner)
        let turns = try await finishedTurns(store, conversation, ["first quokka", "second wombat", "third numbat"])
        _ = try await store.setFeedback(messageID: turns[1].assistant.id, owner: owner, rating: -1, comment: "meh")
        await #expect(throws: ParleyError.self) {
            try await store.deleteMessages(conversationID: conversation.id, owner: stranger, fromIndex: 1)
        }
        try await store.deleteMessages(conversationID: conversation.id, owner: owner, fromIndex: turns[1].user.index)
        let page = try await store.messages(conversationID: conversation.id, owner: owner, before: nil, limit: 10)
        #expect(page.messages.map(\.id) == [turns[0].user.id, turns[0].assistant.id])
        #expect(try await store.conversation(id: conversation.id, owner: owner).messageCount == 2)
        await #expect(throws: ParleyError.self) { try await store.message(id: turns[1].assistant.id, owner: owner) }
        let next = try await store.appendTurn(conversationID: conversation.id, owner: owner, userContent: "again", model: "m")
        #expect(next.user.index == 7, "indexes are never reused")
        #expect(try await store.conversation(id: conversation.id, owner: owner).messageCount == 4)
        let found = try await store.search(owner: owner, terms: try #require(SearchTerms("wombat")), limit: 10, offset: 0)
        #expect(found.messages.isEmpty, "deleted messages leave the search index")
        let kept = try await store.search(owner: owner, terms: try #require(SearchTerms("quokka")), limit: 10, offset: 0)
        #expect(kept.messages.count == 2)
    }

    static func aReplacingTurnTakesTheReplacedOffTheBranchAndOutOfItsContext(_ store: any ConversationStore) async throws {
        let conversation = try await store.createConversation(NewConversation(title: "replace"), owner: owner)
        let turns = try await finishedTurns(store, conversation, ["one", "two", "three"])
        await #expect(throws: ParleyError.self, "another owner replaces nothing") {
            try await store.startTurn(conversationID: conversation.id, owner: stranger, userContent: "x", model: "m",
                                      defaultModel: nil, historyLimit: 10, lease: .seconds(60), replacingFrom: 1)
        }
        let turn = try await store.startTurn(conversationID: conversation.id, owner: owner, userContent: "two, again",
                                             model: "m", defaultModel: nil, historyLimit: 10, lease: .seconds(60),
                                             replacingFrom: turns[1].user.index)
        #expect(turn.history.map(\.message.content) == ["re one", "one"], "the replaced messages are not in the context")
        #expect(turn.user.index == 7)
        let page = try await store.messages(conversationID: conversation.id, owner: owner, before: nil, limit: 10)
        #expect(page.messages.map(\.id) == [turns[0].user.id, turns[0].assistant.id, turn.user.id, turn.assistant.id])
        #expect(try await store.conversation(id: conversation.id, owner: owner).messageCount == 4)
    }

    static func deletingRemovesMessages(_ store: any ConversationStore) async throws {
        let conversation = try await store.createConversation(NewConversation(), owner: owner)
        let turn = try await store.appendTurn(conversationID: conversation.id, owner: owner, userContent: "hi", model: "m")
        try await store.deleteConversation(id: conversation.id, owner: owner)
        await #expect(throws: ParleyError.self) { try await store.message(id: turn.assistant.id, owner: owner) }
    }

    static func unicodeAndLargeContentRoundTrip(_ store: any ConversationStore) async throws {
        let conversation = try await store.createConversation(NewConversation(title: "emoji 🎉 \"quotes\" 'single'"), owner: owner)
        let text = "Grüße 👋🏽 日本語 \\ backslash; " + String(repeating: "long ", count: 20_000)
        let turn = try await store.appendTurn(conversationID: conversation.id, owner: owner, userContent: text, model: "m")
        #expect(try await store.message(id: turn.user.id, owner: owner).content == text)
        #expect(try await store.conversation(id: conversation.id, owner: owner).title == "emoji 🎉 \"quotes\" 'single'")
    }
}

extension ConversationStoreContract {
    static func contextMessagesSkipWhatCannotBeSent(_ store: any ConversationStore) async throws {
        let conversation = try await store.createConversation(NewConversation(), owner: owner)
        let first = try await store.appendTurn(conversationID: conversation.id, owner: owner, userContent: "q1", model: "m")
        _ = try await store.finishMessage(id: first.assistant.id, MessageCompletion(content: "a1", status: .complete))
        let failed = try await store.appendTurn(conversationID: conversation.id, owner: owner, userContent: "q2", model: "m")
        _ = try await store.finishMessage(id: failed.assistant.id, MessageCompletion(content: "", status: .error, errorMessage: "x"))
        let running = try await store.appendTurn(conversationID: conversation.id, owner: owner, userContent: "q3", model: "m")
        let all = try await store.contextMessages(conversationID: conversation.id, before: running.assistant.index + 1, limit: 10)
        #expect(all.map(\.message.content) == ["q3", "q2", "a1", "q1"], "newest first, empty and streaming left out")
        #expect(all.map(\.index) == [5, 3, 2, 1])
        let page = try await store.contextMessages(conversationID: conversation.id, before: 3, limit: 1)
        #expect(page.map(\.message) == [ChatMessage(role: .assistant, content: "a1")])
    }
}

extension ConversationStoreContract {
    static func startTurnReadsHistoryAndPicksTheModel(_ store: any ConversationStore) async throws {
        let conversation = try await store.createConversation(NewConversation(model: "conv-model", systemPrompt: "sys"), owner: owner)
        let first = try await store.startTurn(conversationID: conversation.id, owner: owner, userContent: "q1", model: nil,
                                              defaultModel: "default", historyLimit: 10, lease: .seconds(60))
        #expect(first.assistant.model == "conv-model", "the conversation's model before the default")
        #expect(first.systemPrompt == "sys")
        #expect(first.history.isEmpty)
        _ = try await store.finishMessage(id: first.assistant.id, MessageCompletion(content: "a1", status: .complete))
        let second = try await store.startTurn(conversationID: conversation.id, owner: owner, userContent: "q2",
                                               model: "explicit", defaultModel: "default", historyLimit: 10, lease: .seconds(60))
        #expect(second.assistant.model == "explicit")
        #expect(second.history.map(\.message.content) == ["a1", "q1"], "earlier messages, newest first, not this turn")
        let limited = try await store.startTurn(conversationID: conversation.id, owner: owner, userContent: "q3",
                                                model: nil, defaultModel: nil, historyLimit: 1, lease: .seconds(60))
        #expect(limited.history.map(\.message.content) == ["q2"], "the running answer is left out")

        let bare = try await store.createConversation(NewConversation(), owner: owner)
        let fallback = try await store.startTurn(conversationID: bare.id, owner: owner, userContent: "q", model: nil,
                                                 defaultModel: "default", historyLimit: 10, lease: .seconds(60))
        #expect(fallback.assistant.model == "default" && fallback.systemPrompt == nil)
    }
}

extension ConversationStoreContract {
    static func aFailingWriteDoesNotTakeConcurrentOnesWithIt(_ store: any ConversationStore) async throws {
        let conversation = try await store.createConversation(NewConversation(), owner: owner)
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<40 {
                group.addTask {
                    let target = index % 4 == 0 ? UUID.v7() : conversation.id
                    return (try? await store.appendTurn(conversationID: target, owner: owner, userContent: "m\(index)", model: "m")) != nil
                }
            }
            var results: [Bool] = []
            for await outcome in group { results.append(outcome) }
            return results
        }
        #expect(outcomes.filter { $0 }.count == 30 && outcomes.filter { !$0 }.count == 10)
        let page = try await store.messages(conversationID: conversation.id, owner: owner, before: nil, limit: 200)
        #expect(page.messages.map(\.index) == Array(1...60))
    }
}

extension ConversationStoreContract {
    static func searchFindsFinishedMessagesAndTitlesRanked(_ store: any ConversationStore) async throws {
        func search(_ text: String, limit: Int = 20, offset: Int = 0, as user: UserID = owner) async throws -> SearchResults {
            try await store.search(owner: user, terms: try #require(SearchTerms(text)), limit: limit, offset: offset)
        }
        let trip = try await store.createConversation(NewConversation(title: "Trip to Lisbon"), owner: owner)
        let chores = try await store.createConversation(NewConversation(title: "Groceries"), owner: owner)
        let first = try await store.appendTurn(conversationID: trip.id, owner: owner,
                                               userContent: "Lisbon is one word among many others in this question", model: "m")
        _ = try await store.finishMessage(id: first.assistant.id, MessageCompletion(
            content: "Lisbon lisbon LISBON: the pastry there is pastel de nata.", status: .complete))
        let running = try await store.appendTurn(conversationID: chores.id, owner: owner, userContent: "zebra facts", model: "m")
        try await store.savePartialContent([(running.assistant.id, "zebra stripes are unique")])
        let strangers = try await store.createConversation(NewConversation(title: "Lisbon too"), owner: stranger)
        _ = try await store.appendTurn(conversationID: strangers.id, owner: stranger, userContent: "lisbon secrets", model: "m")

        let lisbon = try await search("Lisbon")
        #expect(lisbon.messages.map(\.messageID) == [first.assistant.id, first.user.id], "more occurrences rank higher")
        #expect(lisbon.messages.allSatisfy { $0.score > 0 } && lisbon.messages[0].score > lisbon.messages[1].score)
        #expect(lisbon.messages[0].conversationTitle == "Trip to Lisbon" && lisbon.messages[0].index == 2)
        #expect(lisbon.messages[0].role == .assistant && lisbon.messages[0].snippet.contains("Lisbon lisbon"))
        #expect(lisbon.conversations.map(\.conversation.id) == [trip.id], "titles, and never another user's")
        #expect(try await search("lisb").messages.count == 2, "the last word matches as a prefix")
        #expect(try await search("lisbon pastry").messages.map(\.messageID) == [first.assistant.id], "all words must match")
        #expect(try await search("\"lisbon\" && (pastry* -:").messages.map(\.messageID) == [first.assistant.id],
                "operators and quotes are just separators")
        #expect(try await search("lisbon", as: stranger).messages.count == 1)

        // A message is found once its generation ends, not while it streams.
        #expect(try await search("stripes").messages.isEmpty)
        #expect(try await search("zebra").messages.map(\.messageID) == [running.user.id])
        _ = try await store.finishMessage(id: running.assistant.id, MessageCompletion(
            content: "zebra stripes are unique", status: .complete))
        #expect(try await search("stripes").messages.map(\.messageID) == [running.assistant.id])

        // Paging.
        let page = try await search("lisbon", limit: 1)
        #expect(page.messages.count == 1 && page.hasMore)
        let next = try await search("lisbon", limit: 1, offset: 1)
        #expect(next.messages.map(\.messageID) == [first.user.id] && !next.hasMore)

        // Titles follow renames; deleted conversations leave the index.
        _ = try await store.updateConversation(id: chores.id, owner: owner, patch: ConversationPatch(title: "Weekly shopping"))
        #expect(try await search("groceries").conversations.isEmpty)
        #expect(try await search("shopping").conversations.map(\.conversation.id) == [chores.id])
        try await store.deleteConversation(id: trip.id, owner: owner)
        let afterDelete = try await search("lisbon")
        #expect(afterDelete.messages.isEmpty && afterDelete.conversations.isEmpty)
        try await store.clearMessages(conversationID: chores.id, owner: owner)
        #expect(try await search("zebra").messages.isEmpty)
    }
}

extension ConversationStoreContract {
    static func importedConversationsReadBackWhole(_ store: any ConversationStore) async throws {
        let created = Date(timeIntervalSince1970: 1_700_000_000)
        let conversation = Conversation(id: .v7(), ownerID: owner, title: "Imported", model: "m", systemPrompt: "sys",
                                        messageCount: 0, createdAt: created, updatedAt: created.addingTimeInterval(60))
        var messages: [Message] = []
        for index in 1...5 {
            let isUser = index % 2 == 1
            messages.append(Message(
                id: .v7(), conversationID: conversation.id, index: index, parentID: isUser ? nil : messages.last?.id,
                role: isUser ? .user : .assistant, content: isUser ? "question \(index)" : "answer \(index) with kiwis",
                model: isUser ? nil : "m", status: index == 4 ? .error : .complete,
                errorMessage: index == 4 ? "upstream returned HTTP 500" : nil,
                promptTokens: isUser ? nil : 10, completionTokens: isUser ? nil : 3,
                createdAt: created.addingTimeInterval(Double(index)), updatedAt: created.addingTimeInterval(Double(index))))
        }
        let imported = ConversationImport(conversation: conversation, messages: messages)
        try await store.importConversation(imported)
        #expect(imported.linkedMessages[2].parentID == messages[1].id, "a question without a parent follows the message before it")

        let stored = try await store.conversation(id: conversation.id, owner: owner)
        #expect(stored.title == "Imported" && stored.messageCount == 5 && stored.systemPrompt == "sys")
        #expect(stored.updatedAt == conversation.updatedAt)
        let page = try await store.messages(conversationID: conversation.id, owner: owner, before: nil, limit: 10)
        #expect(page.messages == imported.linkedMessages, "every field comes back as imported")
        #expect(try await store.search(owner: owner, terms: try #require(SearchTerms("kiwis")), limit: 10, offset: 0)
            .messages.count == 2)
        let next = try await store.appendTurn(conversationID: conversation.id, owner: owner, userContent: "more", model: "m")
        #expect(next.user.index == 6 && next.assistant.index == 7, "new turns follow the imported ones")

        var streaming = messages
        streaming[4].status = .streaming
        let other = Conversation(id: .v7(), ownerID: owner, title: "", model: nil, systemPrompt: nil, messageCount: 0,
                                 createdAt: created, updatedAt: created)
        await #expect(throws: ParleyError.self) {
            try await store.importConversation(ConversationImport(conversation: other, messages: streaming))
        }
        await #expect(throws: ParleyError.self, "messages of another conversation") {
            try await store.importConversation(ConversationImport(conversation: other, messages: messages))
        }
        await #expect(throws: ParleyError.self) { try await store.conversation(id: other.id, owner: owner) }
    }
}
