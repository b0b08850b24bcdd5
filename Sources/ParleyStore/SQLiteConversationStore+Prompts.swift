import Foundation
import GRDB
import ParleyCore

/// Saved prompts in SQLite: one row each, the command unique per owner.
extension SQLiteConversationStore: PromptStore {
    public func createPrompt(_ draft: PromptDraft, owner: UserID, maxPerUser: Int) async throws -> SavedPrompt {
        let now = Date(millis: Date().millis)
        let prompt = SavedPrompt(id: .v7(now: now), ownerID: owner, command: draft.command ?? "", title: draft.title ?? "",
                                 content: draft.content ?? "", createdAt: now, updatedAt: now)
        let refusal = try await write { db -> String? in
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM prompts WHERE owner_id = ?", arguments: [owner.rawValue]) ?? 0
            guard count < maxPerUser else { return "a user may have at most \(maxPerUser) prompts" }
            guard try !Self.commandTaken(db, prompt.command, owner: owner, except: nil) else { return Self.taken(prompt.command) }
            try db.execute(sql: """
                INSERT INTO prompts (id, owner_id, command, title, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [prompt.id.lowercased, owner.rawValue, prompt.command, prompt.title, prompt.content,
                                 now.millis, now.millis])
            return nil
        }
        if let refusal { throw ParleyError.conflict(refusal) }
        return prompt
    }

    public func prompts(owner: UserID) async throws -> [SavedPrompt] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM prompts WHERE owner_id = ? ORDER BY command", arguments: [owner.rawValue])
                .map(Self.prompt(from:))
        }
    }

    public func updatePrompt(id: UUID, owner: UserID, draft: PromptDraft) async throws -> SavedPrompt {
        let now = Date().millis
        let outcome = try await write { db -> Result<SavedPrompt, ParleyError> in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM prompts WHERE id = ? AND owner_id = ?",
                                             arguments: [id.lowercased, owner.rawValue]) else { return .failure(Self.noPrompt(id)) }
            var prompt = try Self.prompt(from: row)
            if let command = draft.command, command != prompt.command {
                guard try !Self.commandTaken(db, command, owner: owner, except: id) else { return .failure(.conflict(Self.taken(command))) }
                prompt.command = command
            }
            prompt.title = draft.title ?? prompt.title
            prompt.content = draft.content ?? prompt.content
            prompt.updatedAt = Date(millis: now)
            try db.execute(sql: "UPDATE prompts SET command = ?, title = ?, content = ?, updated_at = ? WHERE id = ?",
                           arguments: [prompt.command, prompt.title, prompt.content, now, id.lowercased])
            return .success(prompt)
        }
        return try outcome.get()
    }

    public func deletePrompt(id: UUID, owner: UserID) async throws {
        let deleted = try await write { db -> Bool in
            try db.execute(sql: "DELETE FROM prompts WHERE id = ? AND owner_id = ?", arguments: [id.lowercased, owner.rawValue])
            return db.changesCount > 0
        }
        guard deleted else { throw Self.noPrompt(id) }
    }

    static func commandTaken(_ db: Database, _ command: String, owner: UserID, except id: UUID?) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM prompts WHERE owner_id = ? AND command = ? AND id != ?",
                          arguments: [owner.rawValue, command, id?.lowercased ?? ""]) != nil
    }

    static func prompt(from row: Row) throws -> SavedPrompt {
        SavedPrompt(id: try uuid(row, "id"), ownerID: UserID(row["owner_id"] as String), command: row["command"], title: row["title"],
                    content: row["content"], createdAt: Date(millis: row["created_at"]), updatedAt: Date(millis: row["updated_at"]))
    }

    static func taken(_ command: String) -> String { "you already have a prompt /\(command)" }
    static func noPrompt(_ id: UUID) -> ParleyError { .notFound("no prompt with id \(id.lowercased)") }
}
