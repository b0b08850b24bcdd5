import Foundation
import GRDB
import ParleyCore

/// Whole conversations brought in at once.
extension SQLiteConversationStore {
    public func importConversation(_ imported: ConversationImport) async throws {
        try imported.validate()
        let conversation = imported.conversation
        try await write { db in
            try db.execute(sql: """
                INSERT INTO conversations (id, owner_id, title, model, system_prompt, message_count, last_index,
                                           created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [conversation.id.lowercased, conversation.ownerID.rawValue, conversation.title,
                                 conversation.model, conversation.systemPrompt, imported.activeCount,
                                 imported.lastIndex, conversation.createdAt.millis, conversation.updatedAt.millis])
            let insert = try db.cachedStatement(sql: """
                INSERT INTO messages (id, conversation_id, idx, parent_id, role, content, model, status, error,
                                      prompt_tokens, completion_tokens, ttft_ms, latency_ms, created_at, updated_at,
                                      active)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for message in imported.linkedMessages {
                try insert.execute(arguments: [
                    message.id.lowercased, conversation.id.lowercased, message.index, message.parentID?.lowercased,
                    message.role.rawValue, message.content, message.model, message.status.rawValue, message.errorMessage,
                    message.promptTokens, message.completionTokens, message.timeToFirstTokenMs, message.latencyMs,
                    message.createdAt.millis, message.updatedAt.millis, message.onActiveBranch,
                ])
            }
        }
        searchIndexer.markStale(store: self)
    }
}
