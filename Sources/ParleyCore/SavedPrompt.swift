import Foundation

/// A prompt a user saved to insert with `/command` in the message box. `{{name}}` in its text is a variable
/// the user fills in when inserting it.
public struct SavedPrompt: Sendable, Equatable {
    public var id: UUID
    public var ownerID: UserID
    /// What follows `/` to insert it: lowercase letters, digits, `-` and `_`; unique per user.
    public var command: String
    public var title: String
    public var content: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: UUID, ownerID: UserID, command: String, title: String, content: String, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.ownerID = ownerID
        self.command = command
        self.title = title
        self.content = content
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The variables of `content`, each once, in order of first use.
    public var variables: [String] {
        var names: [String] = []
        var rest = content[...]
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if !name.isEmpty, name.count <= 40, !name.contains("{"), !names.contains(name) { names.append(name) }
            rest = rest[close.upperBound...]
        }
        return names
    }
}

/// A saved prompt as created or changed; for a change, `nil` leaves a field as it is.
public struct PromptDraft: Sendable, Equatable {
    public var command: String?
    public var title: String?
    public var content: String?
    public init(command: String? = nil, title: String? = nil, content: String? = nil) {
        self.command = command
        self.title = title
        self.content = content
    }
}

/// Where saved prompts are kept, scoped by their owner: another user's prompt is not found.
public protocol PromptStore: Sendable {
    /// Creates a prompt (every field required); a command the owner already uses, or more than `maxPerUser`
    /// prompts, is a conflict.
    func createPrompt(_ draft: PromptDraft, owner: UserID, maxPerUser: Int) async throws -> SavedPrompt
    /// The owner's prompts, by command.
    func prompts(owner: UserID) async throws -> [SavedPrompt]
    func updatePrompt(id: UUID, owner: UserID, draft: PromptDraft) async throws -> SavedPrompt
    func deletePrompt(id: UUID, owner: UserID) async throws
}
