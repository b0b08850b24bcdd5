import Foundation

/// Limits applied to chat turns.
public struct ChatLimits: Sendable {
    /// Longest accepted user message, in characters.
    public var maxMessageCharacters: Int
    /// Token budget of the context sent upstream (system prompt + history).
    public var contextTokenBudget: Int
    /// `max_tokens` sent upstream, when set.
    public var maxOutputTokens: Int?
    /// Most attachments on one message.
    public var maxAttachmentsPerMessage = 10
    public init(maxMessageCharacters: Int = 100_000, contextTokenBudget: Int = 8_192, maxOutputTokens: Int? = nil) {
        self.maxMessageCharacters = maxMessageCharacters
        self.contextTokenBudget = contextTokenBudget
        self.maxOutputTokens = maxOutputTokens
    }
}

/// One chat turn end to end: validate, store the user message and the pending assistant message, build the
/// context within the token budget, and hand generation to the hub.
public struct ChatService: Sendable {
    public let store: any ConversationStore
    public let models: any ModelDirectory
    public let hub: GenerationHub
    public let limits: ChatLimits
    /// Grounds the answers of conversations with knowledge bases; nil: none are.
    public var grounding: (any Grounding)?
    /// Names conversations after their first exchange; nil: they keep the first line of their first message.
    public var titler: ConversationTitler?
    /// Where attached files and images are kept; nil: messages cannot carry attachments.
    public var attachments: (any AttachmentStore)?
    /// The models that take images (by name); an image for any other is refused before the turn is stored.
    public var visionModels = ModelNamePatterns([])

    /// History is read backwards, first a page with the turn itself, then larger ones, until the budget is full.
    static let firstHistoryPage = 32
    static let historyPageSize = 256

    public init(store: any ConversationStore, models: any ModelDirectory, hub: GenerationHub, limits: ChatLimits,
                grounding: (any Grounding)? = nil) {
        self.store = store
        self.models = models
        self.hub = hub
        self.limits = limits
        self.grounding = grounding
    }

    /// Posts a user message and starts the answer. The returned job is already running.
    ///
    /// The turn is stored, and the context read, in one transaction. A model named in the request is checked
    /// first (an unknown one is an invalid request and nothing is stored); the conversation's or the default
    /// model is checked after storing, and if it is gone the answer fails with a stored error event.
    ///
    /// With `replacingFrom`, the new message is a new version of the user message at that index: it and what
    /// followed leave the active branch (kept, their running answers stopped) — editing a message, or asking
    /// again for an answer.
    ///
    /// `attachmentIDs` name the owner's attachments (uploaded first); a message with some may have no text. An
    /// image for a model that does not take images is refused here, before anything is stored.
    public func postMessage(owner: UserID, conversationID: UUID, content: String, attachmentIDs: [UUID] = [],
                            model requestedModel: String?, replacingFrom: Int? = nil) async throws -> GenerationJob
    {
        guard !attachmentIDs.isEmpty || !content.unicodeScalars.allSatisfy(\.properties.isWhitespace) else {
            throw ParleyError.invalid("content must not be empty")
        }
        guard !content.utf8.contains(0) else {
            throw ParleyError.invalid("content must not contain NUL characters")
        }
        guard content.count <= limits.maxMessageCharacters else {
            throw ParleyError.invalid("content is longer than \(limits.maxMessageCharacters) characters")
        }
        try hub.checkCapacity()
        let requested = try await requestedModel.asyncMap { try await models.resolve($0) }
        let fallback = requested == nil ? await models.defaultModel() : nil
        let attached = try await attachmentReferences(attachmentIDs, owner: owner)
        if attached.contains(where: { $0.kind == .image }) {
            var model = requested?.id
            if model == nil { model = try await store.conversation(id: conversationID, owner: owner).model ?? fallback }
            let takesImages = requested.map(takesImages) ?? model.map(visionModels.matches) ?? false
            guard takesImages else {
                throw ParleyError.invalid("'\(model ?? "the default model")' does not take images: pick a model that does "
                    + "(the vision_models setting names them) or remove the image")
            }
        }
        // From here the turn is stored and must get a job: a client that goes away must not cancel it half-way. The
        // task runs on this thread until it first waits (the write), so shielding it costs no hand-off.
        let service = self
        return try await Task.immediate {
            if let index = replacingFrom {
                await service.hub.stopAll(conversationID: conversationID, fromIndex: index)
            }
            let turn = try await service.store.startTurn(
                conversationID: conversationID, owner: owner, userContent: content, attachments: attached, model: requested?.id,
                defaultModel: fallback, historyLimit: Self.firstHistoryPage, lease: service.hub.leaseDuration,
                replacingFrom: replacingFrom)
            var provider: any ChatProvider
            var upstreamModel: String
            var context: [ChatMessage]
            var assistant = turn.assistant
            do {
                let resolved: ResolvedModel
                if let requested {
                    resolved = requested
                } else if let name = turn.assistant.model {
                    resolved = try await service.models.resolve(name)
                } else {
                    throw ParleyError.unavailable("no model is available: configure an upstream")
                }
                provider = resolved.provider
                upstreamModel = resolved.upstreamModel
                let grounded = try await service.ground(turn, owner: owner)
                if let grounded {
                    try await service.store.setSources(messageID: assistant.id, sources: grounded.sourcesJSON)
                    assistant.sources = grounded.sourcesJSON
                }
                context = try await service.buildContext(turn, owner: owner, acceptsImages: service.takesImages(resolved),
                                                         grounding: grounded?.instructions)
            } catch {
                // The turn is stored: report the problem through the job, like any failed answer.
                provider = FailingProvider(error: error)
                upstreamModel = turn.assistant.model ?? ""
                context = []
            }
            let request = ChatRequest(model: upstreamModel, messages: context, maxTokens: service.limits.maxOutputTokens)
                .applying(turn.parameters, maxOutputTokens: service.limits.maxOutputTokens, cacheScope: owner.rawValue)
            do {
                let job = try service.hub.start(user: turn.user, assistant: assistant, request: request, provider: provider)
                if turn.user.index == 1, let titler = service.titler { Self.nameWhenAnswered(job, titler: titler, owner: owner) }
                return job
            } catch {
                _ = try? await service.store.finishMessage(id: turn.assistant.id, MessageCompletion(
                    content: "", status: .interrupted, errorMessage: "\(error)"))
                throw error
            }
        }.value
    }

    /// Continues an answer that stopped early (cut at the output limit, stopped, interrupted, failed) as the same
    /// message: the model is given the conversation up to the answer and the answer's text so far as the
    /// assistant's last message (a prefill, which OpenAI-compatible servers and Anthropic continue), and what it
    /// writes is appended. Only the newest answer of a conversation can be continued; the returned job is running.
    public func continueAnswer(owner: UserID, messageID: UUID) async throws -> GenerationJob {
        try hub.checkCapacity()
        let service = self
        return try await Task.immediate {
            var assistant = try await service.store.reopenAnswer(id: messageID, owner: owner, lease: service.hub.leaseDuration)
            var provider: any ChatProvider
            var upstreamModel: String
            var context: [ChatMessage] = []
            let user: Message
            do {
                guard let parentID = assistant.parentID else { throw ParleyError.invalid("the answer answers no message") }
                user = try await service.store.message(id: parentID, owner: owner)
            } catch {
                // Without its question there is no turn to run: the answer is put back as it was, with the reason.
                _ = try? await service.store.finishMessage(id: assistant.id, MessageCompletion(
                    content: assistant.content, status: .interrupted, errorMessage: "\(error)",
                    reasoning: assistant.reasoning, reasoningMs: assistant.reasoningMs))
                throw error
            }
            do {
                let conversation = try await service.store.conversation(id: assistant.conversationID, owner: owner)
                guard let name = assistant.model ?? conversation.model else {
                    throw ParleyError.unavailable("no model is available: configure an upstream")
                }
                let resolved = try await service.models.resolve(name)
                provider = resolved.provider
                upstreamModel = resolved.upstreamModel
                let history = try await service.store.contextMessages(conversationID: conversation.id, before: user.index,
                                                                      limit: Self.firstHistoryPage)
                let turn = Turn(user: user, assistant: assistant, systemPrompt: conversation.systemPrompt, history: history,
                                knowledgeBaseIDs: conversation.knowledgeBaseIDs, parameters: conversation.parameters,
                                retrieval: conversation.retrieval)
                let grounded = try await service.ground(turn, owner: owner)
                if let grounded, grounded.sourcesJSON != assistant.sources {
                    try await service.store.setSources(messageID: assistant.id, sources: grounded.sourcesJSON)
                    assistant.sources = grounded.sourcesJSON
                }
                context = try await service.buildContext(turn, owner: owner, acceptsImages: service.takesImages(resolved),
                                                         grounding: grounded?.instructions,
                                                         answerSoFar: ChatMessage(role: .assistant, content: assistant.content))
            } catch {
                provider = FailingProvider(error: error)
                upstreamModel = assistant.model ?? ""
            }
            let parameters = assistant.parameters ?? ChatParameters()
            let request = ChatRequest(model: upstreamModel, messages: context, maxTokens: service.limits.maxOutputTokens)
                .applying(parameters, maxOutputTokens: service.limits.maxOutputTokens, cacheScope: owner.rawValue)
            do {
                return try service.hub.start(user: user, assistant: assistant, request: request, provider: provider)
            } catch {
                _ = try? await service.store.finishMessage(id: assistant.id, MessageCompletion(
                    content: assistant.content, status: .interrupted, errorMessage: "\(error)",
                    reasoning: assistant.reasoning, reasoningMs: assistant.reasoningMs))
                throw error
            }
        }.value
    }

    /// This service with its answers grounded by `grounding`.
    public func grounded(by grounding: any Grounding) -> ChatService {
        var grounded = self
        grounded.grounding = grounding
        return grounded
    }

    /// Once the first answer is complete, has the conversation named (in the background: nobody waits for it).
    static func nameWhenAnswered(_ job: GenerationJob, titler: ConversationTitler, owner: UserID) {
        Task {
            await job.waitUntilFinished()
            guard let answer = job.finished, answer.status == .complete else { return }
            await titler.nameConversation(job.userMessage.conversationID, owner: owner, question: job.userMessage.content,
                                          answer: answer)
        }
    }

    /// The sources of a turn in a conversation with knowledge bases, given up to half the context budget.
    func ground(_ turn: Turn, owner: UserID) async throws -> GroundedSources? {
        guard let grounding, !turn.knowledgeBaseIDs.isEmpty else { return nil }
        let earlier = turn.history.filter { $0.message.role == .user }.prefix(2).map(\.message.content)
        return try await grounding.ground(question: turn.user.content, earlierQuestions: Array(earlier),
                                          knowledgeBaseIDs: turn.knowledgeBaseIDs, settings: turn.retrieval, owner: owner,
                                          tokenBudget: limits.contextTokenBudget / 2)
    }

    /// The messages sent upstream for a turn: the system prompt (with the grounding's instructions and sources)
    /// and the newest history that fits the budget. The turn brought the first page of history; longer histories
    /// are read on in larger pages. `answerSoFar` (an answer being continued) comes last and counts in the budget.
    /// Attachments are read in: the turn's own files cut to what the budget leaves, earlier ones whole (they were
    /// counted whole), images as image parts when the model takes them.
    func buildContext(_ turn: Turn, owner: UserID, acceptsImages: Bool, grounding: String? = nil,
                      answerSoFar: ChatMessage? = nil) async throws -> [ChatMessage] {
        let system = [turn.systemPrompt, grounding].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "\n\n")
        var accumulator = ContextBuilder(tokenBudget: limits.contextTokenBudget).start(systemPrompt: system.isEmpty ? nil : system)
        if let answerSoFar { _ = accumulator.offer(answerSoFar) }
        let question = ChatMessage(role: turn.user.role, content: turn.user.content, attachments: turn.user.attachments)
        let images = question.attachments.count { $0.kind == .image }
        let fileBudget = accumulator.remainingTokens - TokenEstimator.tokens(in: question.content)
            - TokenEstimator.perMessageOverhead - images * TokenEstimator.imageTokens
        _ = accumulator.offer(try await readAttachments(of: question, owner: owner, acceptsImages: acceptsImages,
                                                        fileTokenBudget: max(fileBudget, Self.leastFileTokens)))
        // Files of earlier messages count (and are read) up to half the budget each message, so one long file does
        // not push its question out of the next turns' context.
        let historyFileTokens = limits.contextTokenBudget / 2
        var page = turn.history
        var pageSize = Self.firstHistoryPage
        while !accumulator.isFull {
            for entry in page where !accumulator.offer(Self.fileCostCapped(entry.message, total: historyFileTokens)) { break }
            guard page.count == pageSize, let oldest = page.last, !accumulator.isFull else { break }
            pageSize = min(pageSize * 4, Self.historyPageSize)
            page = try await store.contextMessages(conversationID: turn.user.conversationID, before: oldest.index,
                                                   limit: pageSize)
        }
        var messages = accumulator.messages
        for position in messages.indices where !messages[position].attachments.isEmpty {
            messages[position] = try await readAttachments(of: messages[position], owner: owner, acceptsImages: acceptsImages,
                                                           fileTokenBudget: historyFileTokens)
        }
        return messages
    }
}

/// Stands in for a provider that could not be resolved, so the failure reaches the client as an `error` event.
struct FailingProvider: ChatProvider {
    let error: any Error
    func streamChat(_ request: ChatRequest, onDelta: @escaping @Sendable (AnswerDelta) -> Void) async throws
        -> ChatCompletionInfo
    {
        throw error
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
