import Foundation
import ParleyCore
import ParleyRetrieval
import PostgresNIO

/// Assistants in PostgreSQL: one row each, the knowledge base ids separated by commas, as conversations keep theirs.
extension PostgresConversationStore: AssistantStore {
    public func createAssistant(_ settings: AssistantSettings, owner: UserID, maxPerUser: Int) async throws -> Assistant {
        let now = Date().millis
        let id = UUID.v7(now: Date(millis: now))
        let ids = Self.joined(settings.knowledgeBaseIDs ?? [])
        let name = settings.name ?? "", description = settings.description ?? ""
        let prompt = settings.systemPrompt ?? nil, model = settings.model ?? nil
        let parameters = settings.parameters?.column, retrieval = settings.retrieval?.column
        let origins = (settings.embedOrigins ?? []).joined(separator: " ")
        let rows = try await perform {
            // One statement: a race may pass the limit by one, never by many.
            try await client.query("""
                INSERT INTO assistants (id, owner_id, name, description, system_prompt, model, knowledge_base_ids, parameters,
                                        retrieval, embed_origins, created_at, updated_at)
                SELECT \(id), \(owner.rawValue), \(name), \(description), \(prompt), \(model), \(ids), \(parameters),
                       \(retrieval), \(origins), \(now), \(now)
                WHERE (SELECT count(*) FROM assistants WHERE owner_id = \(owner.rawValue)) < \(maxPerUser)
                RETURNING id
                """, logger: logger).collect()
        }
        guard !rows.isEmpty else { throw ParleyError.conflict("a user may have at most \(maxPerUser) assistants") }
        return try await assistant(id: id, owner: owner)
    }

    public func assistants(owner: UserID) async throws -> [Assistant] {
        let rows = try await perform {
            try await client.query("SELECT * FROM assistants WHERE owner_id = \(owner.rawValue) ORDER BY lower(name), id",
                                   logger: logger).collect()
        }
        return try rows.map(Self.assistant(from:))
    }

    public func assistant(id: UUID, owner: UserID) async throws -> Assistant {
        let rows = try await perform {
            try await client.query("SELECT * FROM assistants WHERE id = \(id) AND owner_id = \(owner.rawValue)", logger: logger).collect()
        }
        guard let row = rows.first else { throw Self.noAssistant(id) }
        return try Self.assistant(from: row)
    }

    public func updateAssistant(id: UUID, owner: UserID, settings: AssistantSettings) async throws -> Assistant {
        let now = Date().millis
        let updated = try await perform {
            try await client.withTransaction(logger: logger) { connection -> Bool in
                let rows = try await connection.query(
                    "SELECT * FROM assistants WHERE id = \(id) AND owner_id = \(owner.rawValue) FOR UPDATE", logger: logger).collect()
                guard let row = rows.first else { return false }
                let current = try Self.assistant(from: row)
                let name = settings.name ?? current.name, description = settings.description ?? current.description
                let prompt = settings.systemPrompt ?? current.systemPrompt, model = settings.model ?? current.model
                let ids = Self.joined(settings.knowledgeBaseIDs ?? current.knowledgeBaseIDs)
                let slug = settings.publicSlug ?? current.publicSlug
                let parameters = (settings.parameters ?? current.parameters).column
                let retrieval = (settings.retrieval ?? current.retrieval).column
                let origins = (settings.embedOrigins ?? current.embedOrigins).joined(separator: " ")
                try await connection.query("""
                    UPDATE assistants SET name = \(name), description = \(description), system_prompt = \(prompt),
                        model = \(model), knowledge_base_ids = \(ids), public_slug = \(slug), parameters = \(parameters),
                        retrieval = \(retrieval), embed_origins = \(origins), updated_at = \(now)
                    WHERE id = \(id)
                    """, logger: logger)
                return true
            }
        }
        guard updated else { throw Self.noAssistant(id) }
        return try await assistant(id: id, owner: owner)
    }

    public func deleteAssistant(id: UUID, owner: UserID) async throws {
        let deleted = try await perform {
            try await client.withTransaction(logger: logger) { connection -> Bool in
                let rows = try await connection.query(
                    "DELETE FROM assistants WHERE id = \(id) AND owner_id = \(owner.rawValue) RETURNING id", logger: logger).collect()
                guard !rows.isEmpty else { return false }
                // Its visitors' chats go with it (their messages and ratings by cascade).
                try await connection.query("DELETE FROM conversations WHERE visitor_of = \(id) AND owner_id = \(owner.rawValue)",
                                           logger: logger)
                return true
            }
        }
        guard deleted else { throw Self.noAssistant(id) }
    }

    static func assistant(from row: PostgresRow) throws -> Assistant {
        let columns = row.makeRandomAccess()
        return Assistant(
            id: try columns["id"].decode(UUID.self), ownerID: UserID(try columns["owner_id"].decode(String.self)),
            name: try columns["name"].decode(String.self), description: try columns["description"].decode(String.self),
            systemPrompt: try columns["system_prompt"].decode(String?.self), model: try columns["model"].decode(String?.self),
            knowledgeBaseIDs: Conversation.knowledgeBaseIDs(column: try columns["knowledge_base_ids"].decode(String.self)),
            publicSlug: try columns["public_slug"].decode(String?.self),
            embedOrigins: SQLiteConversationStore.origins(try columns["embed_origins"].decode(String?.self)),
            parameters: ChatParameters(column: try columns["parameters"].decode(String?.self)),
            retrieval: RetrievalSettings(column: try columns["retrieval"].decode(String?.self)),
            createdAt: Date(millis: try columns["created_at"].decode(Int64.self)),
            updatedAt: Date(millis: try columns["updated_at"].decode(Int64.self)))
    }

    static func joined(_ ids: [UUID]) -> String { ids.map(\.lowercased).joined(separator: ",") }
    static func noAssistant(_ id: UUID) -> ParleyError { .notFound("no assistant with id \(id.lowercased)") }
}
