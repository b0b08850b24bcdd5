import Foundation
import Logging
import ParleyCore
@testable import ParleyStore
import Synchronization
import Testing

/// The hub starts a job's upstream call on the caller's thread: no hand-off to another thread lies between a
/// stored turn and the request sent upstream (each such hand-off can wait a scheduler slice on a busy machine).
@Suite struct GenerationHubStartTests {
    /// Records that its call began, then waits until the job is stopped.
    final class WaitingProvider: ChatProvider {
        private let entered = Atomic<Bool>(false)
        var began: Bool { entered.load(ordering: .sequentiallyConsistent) }
        func streamChat(_ request: ChatRequest, onDelta: @escaping @Sendable (AnswerDelta) -> Void) async throws
            -> ChatCompletionInfo
        {
            entered.store(true, ordering: .sequentiallyConsistent)
            try await Task.sleep(for: .seconds(60))
            return ChatCompletionInfo()
        }
    }

    @Test func theUpstreamCallHasBegunWhenStartReturns() async throws {
        let (store, directory) = try await SQLiteStoreTests.freshStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let hub = GenerationHub(store: store, logger: Logger(label: "test"))
        let conversation = try await store.createConversation(NewConversation(), owner: .local)
        for attempt in 0..<20 {
            let turn = try await store.startTurn(conversationID: conversation.id, owner: .local, userContent: "q\(attempt)",
                                                 model: "m", defaultModel: nil, historyLimit: 0, lease: .seconds(60))
            let provider = WaitingProvider()
            let job = try hub.start(user: turn.user, assistant: turn.assistant,
                                    request: ChatRequest(model: "m", messages: [ChatMessage(role: .user, content: "q")]),
                                    provider: provider)
            #expect(provider.began, "attempt \(attempt): the job had not started")
            #expect(await hub.stop(messageID: job.messageID))
            #expect(try await store.message(id: job.messageID, owner: .local).status == .cancelled)
        }
    }
}
