import Foundation
import HTTPTypes
import Hummingbird
import ParleyCore
import ParleyGateway
import ParleyRetrieval
import ParleyStore
import Logging
import NIOCore
import Tracing

/// `/api/v1/conversations`: create, list (newest first, cursor paging, `q` title search), get, rename or
/// reconfigure, delete; a conversation's messages: page, post (streams the answer), clear.
struct ConversationRoutes {
    static let maxTitleLength = 500
    static let maxModelNameLength = 200
    static let maxPageSize = 200
    static let maxKnowledgeBases = 10

    let store: GuardedConversationStore
    let chat: ChatService
    let hub: GenerationHub
    let accounting: CallAccounting
    let models: any ModelDirectory
    let limits: ChatLimits
    /// Largest request body read.
    let bodyLimit: Int

    func register(on group: some RouterMethods<ParleyRequestContext>) {
        group.post("conversations", use: create)
        group.get("conversations", use: list)
        group.get("conversations/:id", use: get)
        group.patch("conversations/:id", use: update)
        group.delete("conversations/:id", use: delete)
        group.get("conversations/:id/messages", use: messages)
        group.post("conversations/:id/messages", use: postMessage)
        group.delete("conversations/:id/messages", use: clear)
        group.post("messages/:id/continue", use: continueAnswer)
        group.post("conversations/:id/branch", use: switchBranch)
    }

    @Sendable func create(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        var request = request
        let body = try await request.decodeJSON(API.CreateConversation.self, limit: bodyLimit)
        try validate(title: body.title)
        try await validate(model: body.model)
        try validate(systemPrompt: body.systemPrompt)
        let parameters = try checks.parameters(body.parameters)
        let retrieval = try checks.retrieval(body.retrieval)
        var new = NewConversation(title: body.title, model: body.model, systemPrompt: body.systemPrompt,
                                  knowledgeBaseIDs: try await knowledgeBases(body.knowledgeBaseIDs, context) ?? [],
                                  parameters: parameters ?? ChatParameters(), retrieval: retrieval ?? RetrievalSettings(),
                                  tags: try checks.tags(body.tags ?? []))
        if let text = body.assistantID {
            // A chat started from an assistant takes its settings, unless the body names its own.
            let assistant: Assistant
            do {
                guard let id = UUID(uuidString: text) else { throw ParleyError.notFound(text) }
                assistant = try await store.assistant(id: id, owner: context.owner)
            } catch ParleyError.notFound {
                throw ClientError.invalid("no assistant with id \(text.prefix(64))", param: "assistant_id")
            }
            new.model = body.model ?? assistant.model
            new.systemPrompt = body.systemPrompt ?? assistant.systemPrompt
            new.parameters = parameters ?? assistant.parameters
            new.retrieval = retrieval ?? assistant.retrieval
            if body.knowledgeBaseIDs == nil {
                new.knowledgeBaseIDs = try await checks.readable(assistant.knowledgeBaseIDs, reader: context.owner)
            }
        }
        let conversation = try await store.createConversation(new, owner: context.owner)
        var response = try Response.json(API.Conversation(conversation), status: .created)
        response.headers[.location] = "/api/v1/conversations/\(conversation.id.lowercased)"
        return response
    }

    @Sendable func list(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let query = Query(request)
        let limit = try query.integer("limit", in: 1...Self.maxPageSize) ?? 20
        let cursor = try query.conversationCursor()
        let search = try query.string("q", maxLength: 200)?.trimmingCharacters(in: .whitespaces)
        let tag = try query.string("tag", maxLength: ChatSettingsChecks.maxTagLength).map { try checks.tag($0, field: "tag") }
        let page = try await store.listConversations(
            owner: context.owner, query: ConversationQuery(limit: limit, after: cursor, search: search,
                                                           pinned: try query.boolean("pinned"),
                                                           archived: try query.boolean("archived") ?? false, tag: tag))
        return try Response.json(API.ConversationList(data: page.items.map(API.Conversation.init),
                                                      nextCursor: page.nextCursor))
    }

    @Sendable func get(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "conversation")
        return try Response.json(API.Conversation(try await store.conversation(id: id, owner: context.owner)))
    }

    @Sendable func update(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "conversation")
        var request = request
        let body = try await request.decodeJSON(API.UpdateConversation.self, limit: bodyLimit)
        try validate(title: body.title)
        if let model = body.model { try await validate(model: model) }
        if let prompt = body.systemPrompt { try validate(systemPrompt: prompt) }
        let bases = try await knowledgeBases(body.knowledgeBaseIDs, context)
        var parameters: ChatParameters?
        if let given = body.parameters { parameters = try checks.parameters(given) ?? ChatParameters() }
        var retrieval: RetrievalSettings?
        if let given = body.retrieval { retrieval = try checks.retrieval(given) ?? RetrievalSettings() }
        let updated = try await store.updateConversation(
            id: id, owner: context.owner,
            patch: ConversationPatch(title: body.title, model: body.model, systemPrompt: body.systemPrompt,
                                     knowledgeBaseIDs: bases, parameters: parameters, retrieval: retrieval, pinned: body.pinned,
                                     archived: body.archived, tags: try body.tags.map(checks.tags)))
        return try Response.json(API.Conversation(updated))
    }

    @Sendable func delete(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "conversation")
        _ = try await store.conversation(id: id, owner: context.owner)
        await hub.stopAll(conversationID: id)
        try await store.deleteConversation(id: id, owner: context.owner)
        return Response(status: .noContent)
    }

    @Sendable func messages(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "conversation")
        let query = Query(request)
        let limit = try query.integer("limit", in: 1...Self.maxPageSize) ?? 50
        let before = try query.integer("before", in: 1...CheckedNumber.wholeLimit)
        let after = try query.integer("after", in: 0...CheckedNumber.wholeLimit)
        switch try query.string("branches", maxLength: 8) ?? "active" {
        case "active": break
        case "all":
            // Every message of every branch, oldest first (an export of the tree), paged forward.
            guard before == nil else { throw ClientError.invalid("'branches=all' pages forward: give 'after', not 'before'") }
            let page = try await store.messageTree(conversationID: id, owner: context.owner, after: after ?? 0, limit: limit)
            return Response.json(text: API.messageList(page.messages, hasMore: page.hasMore, nextBefore: nil,
                                                       nextAfter: page.hasMore ? page.messages.last?.index : nil))
        default: throw ClientError.invalid("'branches' must be 'active' or 'all'", param: "branches")
        }
        let window: MessageWindow
        switch (before, after) {
        case (nil, nil): window = .newest
        case (let before?, nil): window = .before(before)
        case (nil, let after?): window = .after(after)
        case (.some, .some): throw ClientError.invalid("give 'before' (older messages) or 'after' (newer ones), not both")
        }
        let page = try await store.messages(conversationID: id, owner: context.owner, window: window, limit: limit)
        let continues = page.hasMore ? (after == nil ? page.messages.first?.index : page.messages.last?.index) : nil
        return Response.json(text: API.messageList(page.messages, hasMore: page.hasMore,
                                                   nextBefore: after == nil ? continues : nil,
                                                   nextAfter: after == nil ? nil : continues))
    }

    /// Makes the branch through a message the active one and answers with its newest page, as `GET …/messages`.
    @Sendable func switchBranch(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "conversation")
        var request = request
        let body = try await request.decodeJSON(API.SwitchBranch.self, limit: bodyLimit)
        guard let messageID = UUID(uuidString: body.messageID) else {
            throw ClientError.invalid("'message_id' must be a message id", param: "message_id")
        }
        try await store.switchBranch(conversationID: id, owner: context.owner, to: messageID)
        let page = try await store.messages(conversationID: id, owner: context.owner, window: .newest, limit: 50)
        return Response.json(text: API.messageList(page.messages, hasMore: page.hasMore,
                                                   nextBefore: page.hasMore ? page.messages.first?.index : nil,
                                                   nextAfter: nil))
    }

    /// The chat API's limits are the user's: the same requests and tokens per minute as `/v1`, and their token
    /// budgets. The prompt is estimated as the message plus the context budget. A refusal is a ``LimitRefusal``
    /// or ``BudgetRefusal``, answered as a 429 (or 413) by ``ClientError/from(_:)``.
    private func admitTurn(_ context: ParleyRequestContext, content: String, model: String?) async throws -> CallAccounting.Ticket {
        try await accounting.admit(context, model: model, promptTokens: content.utf8.count / 4 + limits.contextTokenBudget / 4,
                                   maxTokens: limits.maxOutputTokens, stream: false)
    }

    /// Settles the limits and budgets with the answer's usage once it is done, wherever the client went, and
    /// records it (from the job's final message: no read of the store).
    static func settleWhenFinished(_ job: GenerationJob, ticket: CallAccounting.Ticket, accounting: CallAccounting) {
        Task {
            await job.waitUntilFinished()
            let message = job.finished
            // A continued answer's stored counts include the parts written before; only this part is charged.
            let earlier = job.assistantMessage
            let earlierTokens = job.isContinuation ? earlier.completionTokens ?? 0 : 0
            let spent: CallAccounting.Spent
            if let message, let prompt = message.promptTokens {
                spent = .reported(TokenUsage(promptTokens: prompt,
                                             completionTokens: max(0, (message.completionTokens ?? 0) - earlierTokens)))
            } else if let message, message.content.utf8.count > earlier.content.utf8.count {
                spent = .unknown(completion: (message.content.utf8.count - earlier.content.utf8.count) / 4)
            } else {
                spent = .nothing
            }
            let outcome: AnswerOutcome = switch message?.status {
            case .complete?: .completed
            case .cancelled?: .stopped
            default: .failed
            }
            await accounting.settle(ticket, model: message?.model ?? "", spent, outcome: outcome,
                                    timeToFirstToken: message?.timeToFirstTokenMs.map { .milliseconds($0) })
        }
    }

    @Sendable func postMessage(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "conversation")
        var request = request
        let body = try await request.decodeJSON(API.PostMessage.self, limit: bodyLimit)
        if let model = body.model, model.isEmpty || model.count > Self.maxModelNameLength {
            throw ClientError.invalid("'model' must be 1 to \(Self.maxModelNameLength) characters")
        }
        var attachmentIDs = try body.attachmentIDs()
        let replaced = try await replacedMessage(body.replaces, conversationID: id, owner: context.owner)
        let replacedIndex = replaced?.index
        // A new version of a message keeps its attachments unless it names others (an empty list drops them).
        if body.attachments == nil, let replaced { attachmentIDs = replaced.attachments.map(\.id) }
        let ticket = try await admitTurn(context, content: body.content, model: body.model)
        let job: GenerationJob
        do {
            // The job's task inherits the call's span: the turn's writes and upstream attempts are its children.
            job = try await ticket.within {
                try await chat.postMessage(owner: context.owner, conversationID: id, content: body.content,
                                           attachmentIDs: attachmentIDs, model: body.model, replacingFrom: replacedIndex)
            }
            ticket.span?.updateAttributes { attributes in
                attributes["parley.conversation.id"] = id.lowercased
                attributes["parley.message.id"] = job.messageID.lowercased
            }
        } catch {
            await accounting.settle(ticket, model: body.model ?? "", .nothing, outcome: .failed)
            throw error
        }
        Self.settleWhenFinished(job, ticket: ticket, accounting: accounting)
        if Self.wantsJSON(request) {
            // A client that asked for JSON waits for the whole answer (the job runs the same way).
            await job.waitUntilFinished()
            let assistant = try await store.message(id: job.messageID, owner: context.owner)
            var object = JSONObjectText()
            object.field("user", json: API.messageJSON(job.userMessage))
            object.field("assistant", json: API.messageJSON(assistant))
            return Response.json(text: object.closed, status: .created)
        }
        var response = ServerSentEvents.response(job.subscribe(), context: context, drain: accounting.drain)
        response.headers[HTTPField.Name("X-Parley-Message-Id")!] = job.messageID.lowercased
        return response
    }

    /// Continues the newest answer of a conversation where it stopped (see ``ChatService/continueAnswer(owner:messageID:)``):
    /// the answer's events as `POST …/messages` sends them, its `message` event holding the text so far.
    @Sendable func continueAnswer(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "message")
        let ticket = try await admitTurn(context, content: "", model: nil)
        let job: GenerationJob
        do {
            job = try await ticket.within { try await chat.continueAnswer(owner: context.owner, messageID: id) }
        } catch {
            await accounting.settle(ticket, model: "", .nothing, outcome: .failed)
            throw error
        }
        Self.settleWhenFinished(job, ticket: ticket, accounting: accounting)
        if Self.wantsJSON(request) {
            await job.waitUntilFinished()
            return Response.json(text: API.messageJSON(try await store.message(id: job.messageID, owner: context.owner)))
        }
        var response = ServerSentEvents.response(job.subscribe(), context: context, drain: accounting.drain)
        response.headers[HTTPField.Name("X-Parley-Message-Id")!] = job.messageID.lowercased
        return response
    }

    /// The index of the user message a post replaces, checked to belong to this conversation.
    private func replacedMessage(_ replaces: String?, conversationID: UUID, owner: UserID) async throws -> ParleyCore.Message? {
        guard let replaces else { return nil }
        guard let messageID = UUID(uuidString: replaces) else {
            throw ClientError.invalid("'replaces' must be a message id")
        }
        let message = try await store.message(id: messageID, owner: owner)
        guard message.conversationID == conversationID else {
            throw ClientError.invalid("'replaces' names a message of another conversation")
        }
        guard message.role == .user else {
            throw ClientError.invalid("'replaces' must name a user message (to regenerate an answer, replace the message it answers)")
        }
        guard message.onActiveBranch else {
            throw ParleyError.conflict("'replaces' names a message off the active branch: switch to its branch first")
        }
        return message
    }

    @Sendable func clear(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "conversation")
        _ = try await store.conversation(id: id, owner: context.owner)
        await hub.stopAll(conversationID: id)
        try await store.clearMessages(conversationID: id, owner: context.owner)
        return Response(status: .noContent)
    }

    /// True when the client accepts JSON but not an event stream.
    static func wantsJSON(_ request: Request) -> Bool {
        let accept = request.headers.value(of: .accept)?.lowercased() ?? ""
        return accept.contains("application/json") && !accept.contains("text/event-stream")
    }

    // MARK: Validation

    private var checks: ChatSettingsChecks { ChatSettingsChecks(store: store, models: models, limits: limits) }
    private func validate(title: String?) throws { try checks.title(title) }
    private func validate(systemPrompt: String?) throws { try checks.systemPrompt(systemPrompt) }
    private func validate(model: String?) async throws { try await checks.model(model) }
    private func knowledgeBases(_ ids: [String]?, _ context: ParleyRequestContext) async throws -> [UUID]? {
        try await checks.knowledgeBases(ids, reader: context.owner)
    }
}
