import Foundation
import Testing
@testable import ParleyCore

@Suite struct GenerationJobTests {
    static func makeJob(bufferLimit: Int = 2048) -> GenerationJob {
        let now = Date()
        let conversation = UUID.v7()
        let user = Message(id: .v7(), conversationID: conversation, index: 1, parentID: nil, role: .user,
                           content: "hi", model: nil, status: .complete, createdAt: now, updatedAt: now)
        let assistant = Message(id: .v7(), conversationID: conversation, index: 2, parentID: user.id,
                                role: .assistant, content: "", model: "m", status: .streaming,
                                createdAt: now, updatedAt: now)
        let job = GenerationJob(user: user, assistant: assistant, bufferLimit: bufferLimit)
        job.publish(.message(user))
        job.publish(.message(assistant))
        return job
    }

    static func collect(_ subscription: EventSubscription) async -> [GenerationEvent] {
        await subscription.collect()
    }

    func finish(_ job: GenerationJob) {
        var final = job.assistantMessage
        final.content = job.content
        final.status = .complete
        job.finish(with: .done(final))
    }

    @Test func subscriberGetsEverythingInOrderWithConsecutiveIds() async {
        let job = Self.makeJob()
        let stream = job.subscribe()
        for word in ["a", "b", "c"] { job.appendDelta(word) }
        finish(job)
        let events = await Self.collect(stream)
        #expect(events.map(\.id) == Array(1...6))
        #expect(events.map(\.name) == ["message", "message", "delta", "delta", "delta", "done"])
        #expect(job.content == "abc")
    }

    /// NUL cannot be stored as text by every database: it reaches the text and the subscribers as U+FFFD, and text
    /// without it is kept as it came (multi-byte characters included).
    @Test func aNULInModelOutputBecomesAReplacementCharacter() async {
        let job = Self.makeJob()
        let stream = job.subscribe()
        job.appendDelta("a\u{0}b")
        job.appendReasoning("\u{0}")
        job.appendDelta(" é 漢字 🙂")
        finish(job)
        #expect(job.content == "a\u{FFFD}b é 漢字 🙂")
        #expect(job.reasoning == "\u{FFFD}")
        let deltas = await Self.collect(stream).compactMap { event -> String? in
            if case .delta(_, let content) = event.payload { return content }
            return nil
        }
        #expect(deltas == ["a\u{FFFD}b", " é 漢字 🙂"])
    }

    /// The first token's moment and the reasoning's length, as the hub reads them for the stored answer.
    @Test func firstTokenAndReasoningAreTimed() async throws {
        let job = Self.makeJob()
        let before = ContinuousClock.now
        #expect(job.firstTokenAt == nil && job.reasoningMilliseconds() == nil)
        job.appendReasoning("thinking")
        let first = try #require(job.firstTokenAt)
        #expect(first >= before && first <= .now)
        try await Task.sleep(for: .milliseconds(30))
        // Still reasoning: measured up to the moment asked about.
        #expect(try #require(job.reasoningMilliseconds()) >= 30)
        job.appendDelta("answer")
        #expect(job.firstTokenAt == first)
        let reasoning = try #require(job.reasoningMilliseconds())
        try await Task.sleep(for: .milliseconds(30))
        // The answer began: the reasoning's length no longer grows.
        #expect(job.reasoningMilliseconds() == reasoning && reasoning >= 30)
        #expect(job.reasoningMilliseconds(until: .now + .seconds(60)) == reasoning)
    }

    @Test func reattachReplaysOnlyWhatWasMissed() async {
        let job = Self.makeJob()
        for word in ["a", "b", "c", "d"] { job.appendDelta(word) }
        let late = job.subscribe(after: 4)
        job.appendDelta("e")
        finish(job)
        let events = await Self.collect(late)
        #expect(events.map(\.id) == [5, 6, 7, 8])
        let text = events.compactMap { event -> String? in
            if case .delta(_, let content) = event.payload { return content }
            return nil
        }.joined()
        #expect(text == "cde")
    }

    @Test func reattachAfterBufferDroppedEventsStartsWithSnapshot() async {
        let job = Self.makeJob(bufferLimit: 16)
        for index in 0..<100 { job.appendDelta("\(index % 10)") }
        let late = job.subscribe(after: 3)
        finish(job)
        let events = await Self.collect(late)
        guard case .message(let snapshot)? = events.first?.payload else {
            Issue.record("expected a snapshot first, got \(String(describing: events.first))")
            return
        }
        var text = snapshot.content
        for event in events.dropFirst() {
            if case .delta(_, let content) = event.payload { text += content }
        }
        #expect(text == job.content)
        #expect(events.last?.name == "done")
        // Ids still increase by one after the snapshot.
        let ids = events.map(\.id)
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $1 == $0 + 1 })
    }

    @Test func anIdTheJobNeverSentGetsASnapshot() async {
        let job = Self.makeJob()
        for word in ["one ", "two ", "three"] { job.appendDelta(word) }
        // A follower on another replica numbered its events from GenerationFeed.followerIDs.
        let reattached = job.subscribe(after: GenerationFeed.followerIDs + 7)
        job.appendDelta(" four")
        finish(job)
        let events = await Self.collect(reattached)
        guard case .message(let snapshot)? = events.first?.payload else {
            Issue.record("expected a snapshot first, got \(String(describing: events.first))")
            return
        }
        #expect(snapshot.content == "one two three")
        #expect(events.dropFirst().map(\.name) == ["delta", "done"], "then live, nothing twice")
    }

    @Test func subscribingToAFinishedJobReplaysAndEnds() async {
        let job = Self.makeJob()
        job.appendDelta("x")
        finish(job)
        let events = await Self.collect(job.subscribe(after: 2))
        #expect(events.map(\.name) == ["delta", "done"])
        #expect(job.subscriberCount == 0)
    }

    @Test func cancelledSubscriberIsRemoved() async {
        let job = Self.makeJob()
        let task = Task { await Self.collect(job.subscribe()) }
        while job.subscriberCount == 0 { await Task.yield() }
        task.cancel()
        _ = await task.value
        #expect(job.subscriberCount == 0)
    }

    @Test func queuedEventsAreReadAsOneBatch() async {
        let job = Self.makeJob()
        let subscription = job.subscribe()
        for word in ["a", "b", "c"] { job.appendDelta(word) }
        guard case .events(let batch) = await subscription.next() else {
            Issue.record("expected a batch")
            return
        }
        #expect(batch.map(\.id) == [1, 2, 3, 4, 5], "everything queued comes in one batch")
        job.keepAlive()
        #expect(await subscription.next() == .keepAlive)
        finish(job)
        guard case .events(let last) = await subscription.next() else {
            Issue.record("expected the terminal event")
            return
        }
        #expect(last.map(\.name) == ["done"])
        #expect(await subscription.next() == .end)
    }

    @Test func aSlowSubscriberGetsAllTheTextInFewerEvents() async {
        let job = Self.makeJob(bufferLimit: 16)
        let slow = job.subscribe()
        let words = (0..<10_000).map { "w\($0) " }
        for word in words { job.appendDelta(word) }
        finish(job)
        let events = await Self.collect(slow)
        #expect(events.count <= 16 * 2 + 8 + 1, "\(events.count) events")
        #expect(events.map(\.name).prefix(2) == ["message", "message"] && events.last?.name == "done")
        let text = events.compactMap { event -> String? in
            if case .delta(_, let content) = event.payload { return content }
            return nil
        }.joined()
        #expect(text == words.joined(), "every word once, in order")
        #expect(events.map(\.id) == events.map(\.id).sorted() && Set(events.map(\.id)).count == events.count)
        #expect(events.last?.id == 2 + words.count + 1, "the last id is the job's, so a reattach after it misses nothing")
    }

    @Test func aSubscriberTooFarBehindOnEventsThatCannotBeJoinedIsEnded() async {
        let subscription = EventSubscription(limit: 4)
        let message = GenerationJobTests.makeJob().assistantMessage
        for id in 1...4 { #expect(subscription.push(GenerationEvent(id: id, payload: .message(message)))) }
        #expect(subscription.push(GenerationEvent(id: 5, payload: .delta(messageID: "m", content: "a"))) == false)
        #expect(await subscription.next() == .end)
    }

    @Test func textOfDifferentKindsOrMessagesIsNotJoined() {
        var delta = GenerationEvent(id: 1, payload: .delta(messageID: "m", content: "a"))
        let otherKind = delta.absorb(GenerationEvent(id: 2, payload: .reasoning(messageID: "m", content: "b")))
        let otherMessage = delta.absorb(GenerationEvent(id: 2, payload: .delta(messageID: "other", content: "b")))
        #expect(!otherKind && !otherMessage)
        #expect(delta == GenerationEvent(id: 1, payload: .delta(messageID: "m", content: "a")))
        var reasoning = GenerationEvent(id: 1, payload: .reasoning(messageID: "m", content: "a"))
        let joined = reasoning.absorb(GenerationEvent(id: 2, payload: .reasoning(messageID: "m", content: "b")))
        #expect(joined && reasoning == GenerationEvent(id: 2, payload: .reasoning(messageID: "m", content: "ab")))
    }

    @Test func dirtyContentIsTakenOnce() {
        let job = Self.makeJob()
        #expect(job.takeDirtyContent() == nil)
        job.appendDelta("ab")
        #expect(job.takeDirtyContent()?.content == "ab")
        #expect(job.takeDirtyContent() == nil)
        job.appendDelta("c")
        #expect(job.takeDirtyContent() == PartialAnswer(id: job.messageID, content: "abc"))
        // Reasoning is saved with the text, and alone makes the answer dirty.
        job.appendReasoning("hmm")
        #expect(job.takeDirtyContent() == PartialAnswer(id: job.messageID, content: "abc", reasoning: "hmm"))
        #expect(job.takeDirtyContent() == nil)
    }
}

