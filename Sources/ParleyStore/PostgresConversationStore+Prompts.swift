import Foundation
import ParleyCore
import PostgresNIO

/// Saved prompts in PostgreSQL: one row each, the command unique per owner.
extension PostgresConversationStore: PromptStore {
    public func createPrompt(_ draft: PromptDraft, owner: UserID, maxPerUser: Int) async throws -> SavedPrompt {
        let now = Date(millis: Date().millis)
        let prompt = SavedPrompt(id: .v7(now: now), ownerID: owner, command: draft.command ?? "", title: draft.title ?? "",
                                 content: draft.content ?? "", createdAt: now, updatedAt: now)
        let refusal = try await perform {
            try await client.withTransaction(logger: logger) { connection -> String? in
                let counted = try await connection.query(
                    "SELECT count(*)::bigint, bool_or(command = \(prompt.command)) FROM prompts WHERE owner_id = \(owner.rawValue)",
                    logger: logger).collect()
                let (count, taken) = try counted.first?.decode((Int64, Bool?).self) ?? (Int64(0), nil)
                guard count < maxPerUser else { return "a user may have at most \(maxPerUser) prompts" }
                guard taken != true else { return SQLiteConversationStore.taken(prompt.command) }
                let inserted = try await connection.query("""
                    INSERT INTO prompts (id, owner_id, command, title, content, created_at, updated_at)
                    VALUES (\(prompt.id), \(owner.rawValue), \(prompt.command), \(prompt.title), \(prompt.content), \(now.millis), \(now.millis))
                    ON CONFLICT (owner_id, command) DO NOTHING RETURNING id
                    """, logger: logger).collect()
                return inserted.isEmpty ? SQLiteConversationStore.taken(prompt.command) : nil
            }
        }
        if let refusal { throw ParleyError.conflict(refusal) }
        return prompt
    }

    public func prompts(owner: UserID) async throws -> [SavedPrompt] {
        let rows = try await perform {
            try await client.query("SELECT * FROM prompts WHERE owner_id = \(owner.rawValue) ORDER BY command", logger: logger).collect()
        }
        return try rows.map(Self.prompt(from:))
    }

    public func updatePrompt(id: UUID, owner: UserID, draft: PromptDraft) async throws -> SavedPrompt {
        let now = Date().millis
        let outcome = try await perform {
            try await client.withTransaction(logger: logger) { connection -> Result<SavedPrompt, ParleyError> in
                let rows = try await connection.query(
                    "SELECT * FROM prompts WHERE id = \(id) AND owner_id = \(owner.rawValue) FOR UPDATE", logger: logger).collect()
                guard let row = rows.first else { return .failure(SQLiteConversationStore.noPrompt(id)) }
                var prompt = try Self.prompt(from: row)
                prompt.command = draft.command ?? prompt.command
                prompt.title = draft.title ?? prompt.title
                prompt.content = draft.content ?? prompt.content
                prompt.updatedAt = Date(millis: now)
                let updated = try await connection.query("""
                    UPDATE prompts SET command = \(prompt.command), title = \(prompt.title), content = \(prompt.content), updated_at = \(now)
                    WHERE id = \(id) AND NOT EXISTS (
                        SELECT 1 FROM prompts WHERE owner_id = \(owner.rawValue) AND command = \(prompt.command) AND id <> \(id))
                    RETURNING id
                    """, logger: logger).collect()
                return updated.isEmpty ? .failure(.conflict(SQLiteConversationStore.taken(prompt.command))) : .success(prompt)
            }
        }
        return try outcome.get()
    }

    public func deletePrompt(id: UUID, owner: UserID) async throws {
        let rows = try await perform {
            try await client.query("DELETE FROM prompts WHERE id = \(id) AND owner_id = \(owner.rawValue) RETURNING id", logger: logger).collect()
        }
        guard !rows.isEmpty else { throw SQLiteConversationStore.noPrompt(id) }
    }

    static func prompt(from row: PostgresRow) throws -> SavedPrompt {
        let columns = row.makeRandomAccess()
        return SavedPrompt(id: try columns["id"].decode(UUID.self), ownerID: UserID(try columns["owner_id"].decode(String.self)),
                           command: try columns["command"].decode(String.self), title: try columns["title"].decode(String.self),
                           content: try columns["content"].decode(String.self),
                           createdAt: Date(millis: try columns["created_at"].decode(Int64.self)),
                           updatedAt: Date(millis: try columns["updated_at"].decode(Int64.self)))
    }
}
