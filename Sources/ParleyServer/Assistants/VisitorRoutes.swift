import Foundation
import HTTPTypes
import Hummingbird
import ParleyAccounts
import ParleyCore
import ParleyRetrieval
import ParleyStore

/// `/api/v1/public`: anonymous visitors' chats with published assistants (the page at `/a/{slug}` and the
/// widget use them). A visitor reaches only the chat they started, with the token they were given
/// (`Parley-Visitor-Token`); every start and question takes a unit of their address's rate limit; a chat holds
/// at most ``maxMessages`` messages. The chat is its assistant's owner's conversation, so the owner reads it,
/// its ratings and any request to talk to a person.
struct VisitorRoutes {
    static let tokenHeader = HTTPField.Name("Parley-Visitor-Token")!
    static let maxMessages = 100
    static let maxQuestionLength = 4_000
    static let maxEmailLength = 254
    static let maxNoteLength = 2_000

    let store: GuardedConversationStore
    let chat: ChatService
    let feed: GenerationFeed
    let checks: ChatSettingsChecks
    let accounting: CallAccounting
    let limit: RateBucketSource
    let authenticator: Authenticator
    let drain: Drain
    let bodyLimit: Int

    func register(on group: some RouterMethods<ParleyRequestContext>) {
        group.get("assistants/:slug", use: assistant)
        group.post("assistants/:slug/chats", use: start)
        group.get("chats/:id", use: read)
        group.post("chats/:id/messages", use: ask)
        group.get("chats/:id/messages/:message/events", use: events)
        group.post("chats/:id/messages/:message/stop", use: stop)
        group.put("chats/:id/messages/:message/feedback", use: rate)
        group.post("chats/:id/handoff", use: handoff)
    }

    @Sendable func assistant(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        try Response.json(API.PublicAssistant(try await published(context)))
    }

    @Sendable func start(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let assistant = try await published(context)
        try await limit.take(address(request, context), what: "chats and questions from this address")
        let bases = try await checks.readable(assistant.knowledgeBaseIDs, reader: assistant.ownerID)
        let token = VisitorToken.newToken()
        let started = try await store.startVisitorChat(
            NewConversation(model: assistant.model, systemPrompt: assistant.systemPrompt,
                            knowledgeBaseIDs: bases, parameters: assistant.parameters, retrieval: assistant.retrieval),
            assistant: assistant, tokenDigest: VisitorToken.digest(token))
        var response = try Response.json(API.StartedVisitorChat(id: started.conversation.id.lowercased, token: token,
                                                                assistant: API.PublicAssistant(assistant)), status: .created)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// The chat's assistant and its messages, oldest first.
    @Sendable func read(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let chat = try await visitorChat(request, context)
        let assistant = try await store.assistant(id: chat.assistantID, owner: chat.conversation.ownerID)
        let page = try await store.messages(conversationID: chat.conversation.id, owner: chat.conversation.ownerID,
                                            window: .newest, limit: Self.maxMessages)
        var object = JSONObjectText()
        object.field("id", chat.conversation.id)
        object.field("assistant", json: String(decoding: try JSONEncoder().encode(API.PublicAssistant(assistant)), as: UTF8.self))
        object.field("data", json: "[" + page.messages.map(API.visitorMessageJSON).joined(separator: ",") + "]")
        object.field("handoff_requested", chat.handoff != nil)
        return Response.json(text: object.closed)
    }

    /// Asks a question: the answer streams back as the chat API's does (`text/event-stream`).
    @Sendable func ask(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let visitorChat = try await visitorChat(request, context)
        var request = request
        let body = try await request.decodeJSON(API.PostMessage.self, limit: bodyLimit)
        // Checked before the rate limit, so a mistake does not cost the visitor a question.
        guard !body.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ClientError.invalid("'content' must not be empty", param: "content")
        }
        try rejectNUL(body.content, field: "content")
        guard body.content.count <= Self.maxQuestionLength else {
            throw ClientError.invalid("'content' is longer than \(Self.maxQuestionLength) characters", param: "content")
        }
        guard body.model == nil, body.replaces == nil else {
            throw ClientError.invalid("a visitor's question has only 'content'")
        }
        guard visitorChat.conversation.messageCount + 2 <= Self.maxMessages else {
            throw ParleyError.conflict("this chat is full (\(Self.maxMessages) messages); start a new one")
        }
        let address = address(request, context)
        try await limit.take(address, what: "chats and questions from this address")
        // The request and token limits count against the visitor's address.
        var visitor = context
        visitor.principal = "visitor:" + address
        let owner = visitorChat.conversation.ownerID
        // The assistant's owner pays: their token budget is charged and the usage is theirs.
        guard let payer = try await accounting.budgets.store.user(id: owner) else {
            throw ParleyError.notFound("this assistant is no longer published")
        }
        let ticket: CallAccounting.Ticket
        do {
            ticket = try await accounting.admit(visitor, model: nil, promptTokens: body.content.utf8.count / 4, maxTokens: nil,
                                                stream: true, operation: "visitor_chat", payer: payer)
        } catch let refusal as BudgetRefusal {
            // The owner's budget is theirs to know: a visitor learns only when to come back.
            var error = ClientError.from(refusal)
            error.message = "this assistant cannot answer more questions until \(ISO8601.string(refusal.resetsAt))"
            throw error
        }
        let job: GenerationJob
        do {
            job = try await chat.postMessage(owner: owner, conversationID: visitorChat.conversation.id, content: body.content,
                                             model: nil)
        } catch {
            await accounting.settle(ticket, model: "", .nothing, outcome: .failed)
            throw error
        }
        ConversationRoutes.settleWhenFinished(job, ticket: ticket, accounting: accounting)
        var response = ServerSentEvents.response(job.subscribe(), context: context, drain: drain, forVisitor: true)
        response.headers[HTTPField.Name("X-Parley-Message-Id")!] = job.messageID.lowercased
        return response
    }

    /// Reattaches to an answer after a dropped connection or a reload: its events after `Last-Event-ID` (or
    /// `last_event_id`), shown as ``ask(_:context:)`` streams them; a finished answer's end at once.
    @Sendable func events(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let (chat, messageID) = try await chatMessage(request, context)
        let events = try await feed.events(messageID: messageID, owner: chat.conversation.ownerID,
                                           after: try MessageRoutes.lastEventID(request))
        return ServerSentEvents.response(events, context: context, drain: drain, forVisitor: true)
    }

    @Sendable func stop(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let (chat, messageID) = try await chatMessage(request, context)
        return Response.json(text: API.visitorMessageJSON(try await feed.stop(messageID: messageID, owner: chat.conversation.ownerID)))
    }

    /// Rates an answer: `{"rating": 1}` or `{"rating": -1}` (the owner sees the counts per chat).
    @Sendable func rate(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let (chat, messageID) = try await chatMessage(request, context)
        var request = request
        let body = try await request.decodeJSON(API.PutFeedback.self, limit: bodyLimit)
        try body.check()
        let feedback = try await store.setFeedback(messageID: messageID, owner: chat.conversation.ownerID,
                                                   rating: body.rating, comment: body.comment)
        return try Response.json(API.Feedback(feedback))
    }

    /// Asks for a person: the visitor leaves an email address (and a note); the owner sees it on the chat.
    @Sendable func handoff(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let chat = try await visitorChat(request, context)
        var request = request
        let body = try await request.decodeJSON(API.HandoffBody.self, limit: bodyLimit)
        let email = body.email.trimmingCharacters(in: .whitespacesAndNewlines)
        guard Self.isEmailAddress(email) else {
            throw ClientError.invalid("'email' must be an email address", param: "email")
        }
        let note = (body.note ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        try rejectNUL(note, field: "note")
        guard note.count <= Self.maxNoteLength else {
            throw ClientError.invalid("'note' is longer than \(Self.maxNoteLength) characters", param: "note")
        }
        let handoff = try await store.requestHandoff(chatID: chat.conversation.id, tokenDigest: VisitorToken.digest(token(request)),
                                                     email: email, note: note)
        return try Response.json(API.Handoff(handoff), status: .created)
    }

    // MARK: Lookups

    /// The assistant published at the path's slug; a withdrawn or made-up address is a 404.
    private func published(_ context: ParleyRequestContext) async throws -> ParleyRetrieval.Assistant {
        guard let slug = context.parameters.get("slug"), VisitorToken.isSlug(slug) else {
            throw ClientError.notFound("no published assistant at this address")
        }
        return try await store.publishedAssistant(slug: slug)
    }

    private func token(_ request: Request) throws -> String {
        guard let token = request.headers.value(of: Self.tokenHeader), !token.isEmpty, token.utf8.count <= 100 else {
            throw ClientError.unauthorized("this chat needs its visitor token in the Parley-Visitor-Token header")
        }
        return token
    }

    /// The path's chat, when the request carries its token and its assistant is still published (404 otherwise).
    private func visitorChat(_ request: Request, _ context: ParleyRequestContext) async throws -> ParleyRetrieval.VisitorChat {
        let id = try context.uuid("id", kind: "chat")
        return try await store.visitorChat(id: id, tokenDigest: VisitorToken.digest(try token(request)))
    }

    /// The path's chat and one of its messages (another chat's message is not found).
    private func chatMessage(_ request: Request, _ context: ParleyRequestContext) async throws
        -> (ParleyRetrieval.VisitorChat, UUID) {
        let chat = try await visitorChat(request, context)
        let messageID = try context.uuid("message", kind: "message")
        let message = try await store.message(id: messageID, owner: chat.conversation.ownerID)
        guard message.conversationID == chat.conversation.id else {
            throw ClientError.notFound("no message with id \(messageID.lowercased)")
        }
        return (chat, messageID)
    }

    /// The client's address, or the one a trusted proxy names.
    private func address(_ request: Request, _ context: ParleyRequestContext) -> String {
        authenticator.client(request, context).address
    }

    /// A plausible address: one `@`, something before it, a dot in the domain, no spaces, at most 254 characters.
    static func isEmailAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard text.count <= maxEmailLength, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
              !parts[1].hasPrefix("."), !parts[1].hasSuffix(".") else { return false }
        return !text.contains(where: { $0.isWhitespace || $0.isNewline || $0 == "\u{0}" })
    }
}
