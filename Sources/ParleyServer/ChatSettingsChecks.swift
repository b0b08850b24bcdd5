import Foundation
import ParleyCore
import ParleyRetrieval
import ParleyStore

/// The checks of what a chat is set up with — title, system prompt, model, knowledge bases — shared by
/// conversations and the assistants that start them. Each failure is a 400 naming the field.
struct ChatSettingsChecks {
    let store: GuardedConversationStore
    let models: any ModelDirectory
    let limits: ChatLimits

    func title(_ title: String?, field: String = "title") throws {
        try rejectNUL(title, field: field)
        if let title, title.count > ConversationRoutes.maxTitleLength {
            throw ClientError.invalid("'\(field)' is longer than \(ConversationRoutes.maxTitleLength) characters")
        }
    }

    func systemPrompt(_ systemPrompt: String?) throws {
        try rejectNUL(systemPrompt, field: "system_prompt")
        let limit = limits.maxMessageCharacters
        if let systemPrompt, systemPrompt.count > limit {
            throw ClientError.invalid("'system_prompt' is longer than \(limit) characters")
        }
    }

    /// A model named for a chat must be one the router serves.
    func model(_ model: String?) async throws {
        guard let model else { return }
        guard !model.isEmpty, model.count <= ConversationRoutes.maxModelNameLength else {
            throw ClientError.invalid("'model' must be 1 to \(ConversationRoutes.maxModelNameLength) characters")
        }
        try rejectNUL(model, field: "model")
        _ = try await models.resolve(model)
    }

    /// Knowledge bases named for a chat: at most ``ConversationRoutes/maxKnowledgeBases``, each one `reader` may read.
    func knowledgeBases(_ ids: [String]?, reader: UserID) async throws -> [UUID]? {
        guard let ids else { return nil }
        guard ids.count <= ConversationRoutes.maxKnowledgeBases else {
            throw ClientError.invalid("a conversation can use at most \(ConversationRoutes.maxKnowledgeBases) knowledge bases",
                                      param: "knowledge_base_ids")
        }
        var bases: [UUID] = []
        for text in ids {
            guard let id = UUID(uuidString: text) else {
                throw ClientError.invalid("'\(text.prefix(64))' is not a knowledge base id", param: "knowledge_base_ids")
            }
            do {
                _ = try await store.knowledgeBase(id: id, reader: reader)
            } catch ParleyError.notFound {
                throw ClientError.invalid("no knowledge base with id \(id.lowercased)", param: "knowledge_base_ids")
            }
            if !bases.contains(id) { bases.append(id) }
        }
        return bases
    }

    /// Those of `ids` that `reader` may still read (a base deleted or unshared since is left out).
    func readable(_ ids: [UUID], reader: UserID) async throws -> [UUID] {
        var kept: [UUID] = []
        for id in ids {
            do {
                _ = try await store.knowledgeBase(id: id, reader: reader)
                kept.append(id)
            } catch ParleyError.notFound {
                continue
            }
        }
        return kept
    }
}

extension ChatSettingsChecks {
    static let maxTags = 10
    static let maxTagLength = 32

    /// A conversation's tags: at most ``maxTags``, each checked by ``tag(_:field:)``, repeats dropped.
    func tags(_ tags: [String]) throws -> [String] {
        guard tags.count <= Self.maxTags else { throw ClientError.invalid("a conversation has at most \(Self.maxTags) tags") }
        var seen: [String] = []
        for tag in tags {
            let checked = try self.tag(tag, field: "tags")
            if !seen.contains(checked) { seen.append(checked) }
        }
        return seen
    }

    /// A tag, trimmed and lowercased: 1 to ``maxTagLength`` characters, no commas or control characters.
    func tag(_ tag: String, field: String) throws -> String {
        let trimmed = tag.trimmingCharacters(in: .whitespaces).lowercased()
        guard !trimmed.isEmpty, trimmed.count <= Self.maxTagLength,
              !trimmed.unicodeScalars.contains(where: { $0 == "," || CharacterSet.controlCharacters.contains($0) }) else {
            throw ClientError.invalid("'\(field)': a tag is 1 to \(Self.maxTagLength) characters, without commas")
        }
        return trimmed
    }
}
