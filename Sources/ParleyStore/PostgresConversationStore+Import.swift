import Foundation
import ParleyCore
import PostgresNIO

/// Whole conversations brought in at once: the messages go in one statement, as arrays.
extension PostgresConversationStore {
    public func importConversation(_ imported: ConversationImport) async throws {
        try imported.validate()
        let conversation = imported.conversation
        let messages = imported.linkedMessages
        let leaf = messages.last { $0.onActiveBranch }?.id
        try await perform {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("""
                    INSERT INTO conversations (id, owner_id, title, model, system_prompt, message_count, last_index,
                                               created_at, updated_at, leaf_id)
                    VALUES (\(conversation.id), \(conversation.ownerID.rawValue), \(conversation.title),
                            \(conversation.model), \(conversation.systemPrompt), \(imported.activeCount),
                            \(imported.lastIndex), \(conversation.createdAt.millis), \(conversation.updatedAt.millis),
                            \(leaf))
                    """, logger: logger)
                guard !messages.isEmpty else { return }
                // Arrays cannot carry NULLs here: '' and -1 stand for them (no stored id, model or error is
                // empty, and no count is negative).
                try await connection.query("""
                    INSERT INTO messages (id, conversation_id, idx, parent_id, role, content, model, status, error,
                                          prompt_tokens, completion_tokens, ttft_ms, latency_ms, created_at, updated_at,
                                          active)
                    SELECT id, \(conversation.id), idx, NULLIF(parent_id, '')::uuid, role, content, NULLIF(model, ''),
                           status, NULLIF(error, ''), NULLIF(prompt_tokens, -1), NULLIF(completion_tokens, -1),
                           NULLIF(ttft_ms, -1), NULLIF(latency_ms, -1), created_at, updated_at, active
                    FROM unnest(\(messages.map(\.id))::uuid[], \(messages.map(\.index))::int[],
                                \(messages.map { $0.parentID?.lowercased ?? "" })::text[], \(messages.map(\.role.rawValue))::text[],
                                \(messages.map(\.content))::text[], \(messages.map { $0.model ?? "" })::text[],
                                \(messages.map(\.status.rawValue))::text[], \(messages.map { $0.errorMessage ?? "" })::text[],
                                \(messages.map { $0.promptTokens ?? -1 })::int[], \(messages.map { $0.completionTokens ?? -1 })::int[],
                                \(messages.map { $0.timeToFirstTokenMs ?? -1 })::int[], \(messages.map { $0.latencyMs ?? -1 })::int[],
                                \(messages.map(\.createdAt.millis))::bigint[], \(messages.map(\.updatedAt.millis))::bigint[],
                                \(messages.map(\.onActiveBranch))::boolean[])
                        AS m(id, idx, parent_id, role, content, model, status, error, prompt_tokens, completion_tokens,
                             ttft_ms, latency_ms, created_at, updated_at, active)
                    """, logger: logger)
            }
        }
    }
}
