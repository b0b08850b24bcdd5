import Foundation
import GRDB
import ParleyCore
import ParleyRetrieval

/// Assistants in SQLite: one row each, the knowledge base ids separated by commas, as conversations keep theirs.
extension SQLiteConversationStore: AssistantStore {
    public func createAssistant(_ settings: AssistantSettings, owner: UserID, maxPerUser: Int) async throws -> Assistant {
        let now = Date()
        let id = UUID.v7(now: now)
        let created = try await write { db -> Bool in
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM assistants WHERE owner_id = ?", arguments: [owner.rawValue]) ?? 0
            guard count < maxPerUser else { return false }
            try db.execute(sql: """
                INSERT INTO assistants (id, owner_id, name, description, system_prompt, model, knowledge_base_ids, parameters,
                                        retrieval, embed_origins, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id.lowercased, owner.rawValue, settings.name ?? "", settings.description ?? "",
                                 settings.systemPrompt ?? nil, settings.model ?? nil,
                                 Self.joined(settings.knowledgeBaseIDs ?? []), settings.parameters?.column,
                                 settings.retrieval?.column,
                                 (settings.embedOrigins ?? []).joined(separator: " "), now.millis, now.millis])
            return true
        }
        guard created else { throw ParleyError.conflict("a user may have at most \(maxPerUser) assistants") }
        return try await assistant(id: id, owner: owner)
    }

    public func assistants(owner: UserID) async throws -> [Assistant] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM assistants WHERE owner_id = ? ORDER BY name COLLATE NOCASE, id",
                             arguments: [owner.rawValue]).map(Self.assistant(from:))
        }
    }

    public func assistant(id: UUID, owner: UserID) async throws -> Assistant {
        let found = try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM assistants WHERE id = ? AND owner_id = ?",
                             arguments: [id.lowercased, owner.rawValue]).map(Self.assistant(from:))
        }
        guard let found else { throw Self.noAssistant(id) }
        return found
    }

    public func updateAssistant(id: UUID, owner: UserID, settings: AssistantSettings) async throws -> Assistant {
        let now = Date().millis
        let updated = try await write { db -> Bool in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM assistants WHERE id = ? AND owner_id = ?",
                                             arguments: [id.lowercased, owner.rawValue]) else { return false }
            let current = try Self.assistant(from: row)
            try db.execute(sql: """
                UPDATE assistants SET name = ?, description = ?, system_prompt = ?, model = ?, knowledge_base_ids = ?,
                    public_slug = ?, parameters = ?, retrieval = ?, embed_origins = ?, updated_at = ? WHERE id = ?
                """, arguments: [settings.name ?? current.name, settings.description ?? current.description,
                                 settings.systemPrompt ?? current.systemPrompt, settings.model ?? current.model,
                                 Self.joined(settings.knowledgeBaseIDs ?? current.knowledgeBaseIDs),
                                 settings.publicSlug ?? current.publicSlug, (settings.parameters ?? current.parameters).column,
                                 (settings.retrieval ?? current.retrieval).column,
                                 (settings.embedOrigins ?? current.embedOrigins).joined(separator: " "), now, id.lowercased])
            return true
        }
        guard updated else { throw Self.noAssistant(id) }
        return try await assistant(id: id, owner: owner)
    }

    public func deleteAssistant(id: UUID, owner: UserID) async throws {
        let deleted = try await write { db -> Bool in
            try db.execute(sql: "DELETE FROM assistants WHERE id = ? AND owner_id = ?", arguments: [id.lowercased, owner.rawValue])
            guard db.changesCount > 0 else { return false }
            // Its visitors' chats go with it (their messages and ratings by cascade).
            try db.execute(sql: "DELETE FROM conversations WHERE visitor_of = ? AND owner_id = ?",
                           arguments: [id.lowercased, owner.rawValue])
            return true
        }
        guard deleted else { throw Self.noAssistant(id) }
    }

    static func assistant(from row: Row) throws -> Assistant {
        Assistant(id: try uuid(row, "id"), ownerID: UserID(row["owner_id"] as String), name: row["name"],
                  description: row["description"], systemPrompt: row["system_prompt"], model: row["model"],
                  knowledgeBaseIDs: Conversation.knowledgeBaseIDs(column: row["knowledge_base_ids"]),
                  publicSlug: row["public_slug"], embedOrigins: Self.origins(row["embed_origins"]),
                  parameters: ChatParameters(column: row["parameters"]), retrieval: RetrievalSettings(column: row["retrieval"]),
                  createdAt: Date(millis: row["created_at"]), updatedAt: Date(millis: row["updated_at"]))
    }

    /// The embed origins as stored: separated by spaces (an origin has none).
    static func origins(_ column: String?) -> [String] { (column ?? "").split(separator: " ").map(String.init) }

    static func joined(_ ids: [UUID]) -> String { ids.map(\.lowercased).joined(separator: ",") }
    static func noAssistant(_ id: UUID) -> ParleyError { .notFound("no assistant with id \(id.lowercased)") }
}
