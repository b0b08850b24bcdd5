import Foundation
import ParleyCore
import PostgresNIO

/// The statements every chat turn runs, prepared once per pooled connection (by name) so PostgreSQL parses
/// and plans them once rather than on every turn.
enum PostgresStatements {
    /// ``PostgresConversationStore/startTurnSQL`` with its bindings; rows are (kind, index, text, text).
    struct StartTurn: PostgresPreparedStatement {
        static let name = "parley_start_turn_v7"
        static var sql: String { PostgresConversationStore.startTurnSQL }
        typealias Row = (Int, Int, String?, String?, String?, String?, String?, String?)

        var nowMillis: Int64
        var title: String
        var conversationID: UUID
        var owner: String
        var userID: UUID
        var userContent: String
        var assistantID: UUID
        var model: String?
        var defaultModel: String?
        var leaseMillis: Int64
        var historyLimit: Int
        var replacingFrom: Int?
        /// The user message's attachment references as JSON (nil: none).
        var attachments: String?

        func makeBindings() throws -> PostgresBindings {
            var binds = PostgresBindings()
            binds.append(nowMillis)
            binds.append(title)
            binds.append(conversationID)
            binds.append(owner)
            binds.append(userID)
            binds.append(userContent)
            binds.append(assistantID)
            binds.append(model)
            binds.append(defaultModel)
            binds.append(leaseMillis)
            binds.append(historyLimit)
            binds.append(replacingFrom)
            binds.append(attachments)
            return binds
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// The final state of an answer; returns the stored message's columns.
    struct FinishMessage: PostgresPreparedStatement {
        static let name = "parley_finish_message_v5"
        static let sql = """
            UPDATE messages SET content = $1, status = $2, error = $3, prompt_tokens = $4, completion_tokens = $5,
                ttft_ms = $6, latency_ms = $7, updated_at = $8, lease_expires_at = NULL, cache = $10,
                reasoning = $11, reasoning_ms = $12, finish_reason = $13
            WHERE id = $9
            RETURNING id, conversation_id, idx, parent_id, role, content, model, status, error, prompt_tokens,
                completion_tokens, ttft_ms, latency_ms, created_at, updated_at, sources, parameters, cache,
                reasoning, reasoning_ms, finish_reason, active, attachments
            """
        typealias Row = PostgresRow

        var id: UUID
        var completion: MessageCompletion
        var nowMillis: Int64

        func makeBindings() throws -> PostgresBindings {
            var binds = PostgresBindings()
            binds.append(completion.content)
            binds.append(completion.status.rawValue)
            binds.append(completion.errorMessage)
            binds.append(completion.promptTokens)
            binds.append(completion.completionTokens)
            binds.append(completion.timeToFirstTokenMs)
            binds.append(completion.latencyMs)
            binds.append(nowMillis)
            binds.append(id)
            binds.append(completion.cache)
            binds.append(completion.reasoning)
            binds.append(completion.reasoningMs)
            binds.append(completion.finishReason)
            return binds
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { row }
    }
}
