import Foundation
import HTTPTypes
import Hummingbird
import ParleyCore
import ParleyRetrieval
import ParleyStore

/// `/api/v1/assistants`: a user's saved chat presets — create, list, get, change, delete. A chat starts from one
/// with `POST /api/v1/conversations {"assistant_id": …}`.
struct AssistantRoutes {
    static let maxPerUser = 100
    static let maxNameLength = 200
    static let maxDescriptionLength = 2_000

    let store: GuardedConversationStore
    let checks: ChatSettingsChecks
    /// Largest JSON body read.
    let bodyLimit: Int

    func register(on group: some RouterMethods<ParleyRequestContext>) {
        group.post("assistants", use: create)
        group.get("assistants", use: list)
        group.get("assistants/:id", use: get)
        group.patch("assistants/:id", use: update)
        group.delete("assistants/:id", use: delete)
        group.get("assistants/:id/visitor-chats", use: visitorChats)
    }

    @Sendable func create(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        var request = request
        let body = try await request.decodeJSON(API.AssistantBody.self, limit: bodyLimit)
        guard body.name != nil else { throw ClientError.invalid("an assistant needs a 'name'", param: "name") }
        let settings = try await validated(body, context)
        var assistant = try await store.createAssistant(settings, owner: context.owner, maxPerUser: Self.maxPerUser)
        if body.published == true {
            assistant = try await store.updateAssistant(id: assistant.id, owner: context.owner,
                                                        settings: AssistantSettings(publicSlug: .some(VisitorToken.newSlug())))
        }
        var response = try Response.json(API.Assistant(assistant), status: .created)
        response.headers[.location] = "/api/v1/assistants/\(assistant.id.lowercased)"
        return response
    }

    @Sendable func list(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        try Response.json(API.AssistantList(data: try await store.assistants(owner: context.owner).map(API.Assistant.init)))
    }

    @Sendable func get(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "assistant")
        return try Response.json(API.Assistant(try await store.assistant(id: id, owner: context.owner)))
    }

    @Sendable func update(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "assistant")
        var request = request
        let body = try await request.decodeJSON(API.AssistantBody.self, limit: bodyLimit)
        var settings = try await validated(body, context)
        if let published = body.published {
            // Publishing keeps an address already given out; withdrawing and publishing again makes a new one.
            let current = try await store.assistant(id: id, owner: context.owner)
            settings.publicSlug = published ? .some(current.publicSlug ?? VisitorToken.newSlug()) : .some(nil)
        }
        return try Response.json(API.Assistant(try await store.updateAssistant(id: id, owner: context.owner, settings: settings)))
    }

    @Sendable func delete(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "assistant")
        try await store.deleteAssistant(id: id, owner: context.owner)
        return Response(status: .noContent)
    }

    /// The visitors' chats with the assistant, most recently active first (`limit`, `cursor` as for conversations);
    /// each is one of the owner's conversations, read with the conversation routes.
    @Sendable func visitorChats(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "assistant")
        let query = Query(request)
        let limit = try query.integer("limit", in: 1...ConversationRoutes.maxPageSize) ?? 20
        let cursor = try query.conversationCursor()
        _ = try await store.assistant(id: id, owner: context.owner)
        let page = try await store.visitorChats(assistantID: id, owner: context.owner, limit: limit, after: cursor)
        return try Response.json(API.VisitorChatList(data: page.items.map(API.VisitorChat.init), nextCursor: page.nextCursor))
    }

    /// The body's settings, each checked as a conversation's would be; names are trimmed, one line, 1–200 characters.
    private func validated(_ body: API.AssistantBody, _ context: ParleyRequestContext) async throws -> AssistantSettings {
        var name = body.name
        if let given = name {
            let trimmed = given.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, trimmed.count <= Self.maxNameLength, !trimmed.contains(where: \.isNewline) else {
                throw ClientError.invalid("'name' must be 1 to \(Self.maxNameLength) characters on one line", param: "name")
            }
            try rejectNUL(trimmed, field: "name")
            name = trimmed
        }
        try rejectNUL(body.description, field: "description")
        if let description = body.description, description.count > Self.maxDescriptionLength {
            throw ClientError.invalid("'description' is longer than \(Self.maxDescriptionLength) characters", param: "description")
        }
        if let prompt = body.systemPrompt { try checks.systemPrompt(prompt) }
        if let model = body.model { try await checks.model(model) }
        let bases = try await checks.knowledgeBases(body.knowledgeBaseIDs, reader: context.owner)
        var parameters: ChatParameters?
        if let given = body.parameters { parameters = try checks.parameters(given) ?? ChatParameters() }
        var retrieval: RetrievalSettings?
        if let given = body.retrieval { retrieval = try checks.retrieval(given) ?? RetrievalSettings() }
        return AssistantSettings(name: name, description: body.description, systemPrompt: body.systemPrompt, model: body.model,
                                 knowledgeBaseIDs: bases, embedOrigins: try body.embedOrigins.map(Self.origins), parameters: parameters,
                                 retrieval: retrieval)
    }

    static let maxEmbedOrigins = 10

    /// Sites as `frame-ancestors` takes them: `https://example.com`, `http://localhost:3000`, `https://*.example.com` —
    /// a scheme, a host (a leading `*.` allowed), an optional port, nothing else (they go into a header). Lowercased,
    /// a trailing `/` dropped, duplicates removed.
    static func origins(_ given: [String]) throws -> [String] {
        guard given.count <= maxEmbedOrigins else {
            throw ClientError.invalid("'embed_origins' may list at most \(maxEmbedOrigins) sites", param: "embed_origins")
        }
        var origins: [String] = []
        for raw in given {
            var origin = raw.trimmingCharacters(in: .whitespaces).lowercased()
            if origin.hasSuffix("/") { origin.removeLast() }
            guard isOrigin(origin) else {
                throw ClientError.invalid("'embed_origins': '\(raw.prefix(100))' is not a site such as https://example.com (scheme, host, optional port)",
                                          param: "embed_origins")
            }
            if !origins.contains(origin) { origins.append(origin) }
        }
        return origins
    }

    private static func isOrigin(_ text: String) -> Bool {
        guard text.count <= 200 else { return false }
        let scheme: Substring
        if text.hasPrefix("https://") { scheme = text.dropFirst(8) } else if text.hasPrefix("http://") { scheme = text.dropFirst(7) } else { return false }
        let parts = scheme.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        var host = parts[0]
        if parts.count == 2 {
            guard let port = Int(parts[1]), (1...65_535).contains(port), parts[1].allSatisfy(\.isASCII) else { return false }
        }
        if host.hasPrefix("*.") { host = host.dropFirst(2) }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return !host.isEmpty && labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        }
    }
}
