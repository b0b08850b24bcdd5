import Foundation
import HTTPTypes
import Hummingbird
import ParleyCore
import ParleyStore

/// `/api/v1/prompts`: a user's saved prompts, inserted with `/command` in the message box — create, list, change,
/// delete. `{{name}}` in a prompt's text is a variable filled in when it is inserted.
struct PromptRoutes {
    static let maxPerUser = 200
    static let maxCommandLength = 32
    static let maxTitleLength = 200
    static let maxContentLength = 20_000

    let store: GuardedConversationStore
    /// Largest JSON body read.
    let bodyLimit: Int

    func register(on group: some RouterMethods<ParleyRequestContext>) {
        group.post("prompts", use: create)
        group.get("prompts", use: list)
        group.patch("prompts/:id", use: update)
        group.delete("prompts/:id", use: delete)
    }

    @Sendable func create(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        var request = request
        let body = try await request.decodeJSON(API.PromptBody.self, limit: bodyLimit)
        guard body.command != nil, body.content != nil else {
            throw ClientError.invalid("a prompt needs a 'command' and its 'content'")
        }
        var draft = try Self.checked(body)
        draft.title = draft.title ?? ""
        let prompt = try await store.createPrompt(draft, owner: context.owner, maxPerUser: Self.maxPerUser)
        return try Response.json(API.Prompt(prompt), status: .created)
    }

    @Sendable func list(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        try Response.json(API.PromptList(data: try await store.prompts(owner: context.owner).map(API.Prompt.init)))
    }

    @Sendable func update(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "prompt")
        var request = request
        let body = try await request.decodeJSON(API.PromptBody.self, limit: bodyLimit)
        return try Response.json(API.Prompt(try await store.updatePrompt(id: id, owner: context.owner, draft: try Self.checked(body))))
    }

    @Sendable func delete(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        try await store.deletePrompt(id: try context.uuid("id", kind: "prompt"), owner: context.owner)
        return Response(status: .noContent)
    }

    /// A command is 1–32 lowercase letters, digits, `-` or `_` (a leading `/` is dropped); a title one line of up to
    /// 200 characters; the content 1–20,000 characters.
    static func checked(_ body: API.PromptBody) throws -> PromptDraft {
        var draft = PromptDraft()
        if let given = body.command {
            var command = given.trimmingCharacters(in: .whitespaces).lowercased()
            if command.hasPrefix("/") { command.removeFirst() }
            guard (1...maxCommandLength).contains(command.count), command.unicodeScalars.allSatisfy({
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
            }) else {
                throw ClientError.invalid("'command' must be 1 to \(maxCommandLength) lowercase letters, digits, - or _", param: "command")
            }
            draft.command = command
        }
        if let title = body.title {
            let trimmed = title.trimmingCharacters(in: .whitespaces)
            guard trimmed.count <= maxTitleLength, !trimmed.contains(where: \.isNewline) else {
                throw ClientError.invalid("'title' must be one line of at most \(maxTitleLength) characters", param: "title")
            }
            try rejectNUL(trimmed, field: "title")
            draft.title = trimmed
        }
        if let content = body.content {
            guard !content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, content.count <= maxContentLength else {
                throw ClientError.invalid("'content' must be 1 to \(maxContentLength) characters", param: "content")
            }
            try rejectNUL(content, field: "content")
            draft.content = content
        }
        return draft
    }
}

extension API {
    struct Prompt: Encodable {
        var id: String
        var command: String
        var title: String
        var content: String
        /// The `{{name}}` variables of its content, in order.
        var variables: [String]
        var createdAt: String
        var updatedAt: String
        enum CodingKeys: String, CodingKey {
            case id, command, title, content, variables
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }

        init(_ prompt: SavedPrompt) {
            id = prompt.id.lowercased
            command = prompt.command
            title = prompt.title
            content = prompt.content
            variables = prompt.variables
            createdAt = API.time(prompt.createdAt)
            updatedAt = API.time(prompt.updatedAt)
        }
    }

    struct PromptList: Encodable {
        var data: [Prompt]
    }

    /// `POST` and `PATCH /api/v1/prompts`: for a change, an absent field is left alone.
    struct PromptBody: Decodable {
        var command: String?
        var title: String?
        var content: String?
    }
}
