import Foundation
import GRDB
import ParleyCore

/// Reading rows back into domain values.
extension SQLiteConversationStore {
    /// The first row of `statement`, decoded while SQLite still holds it: each column read straight from the
    /// statement (``SQLiteColumns``), where a fetched `Row` is copied first and each of its values decoded through
    /// generic code. `decode` must not keep the columns.
    static func first<T>(_ statement: Statement, arguments: StatementArguments,
                         _ decode: (SQLiteColumns) throws -> T) throws -> T? {
        try withoutActuallyEscaping(decode) { decode in
            try SQLiteColumnsCursor(statement, arguments: arguments, decode: decode).next()
        }
    }

    /// Every row of `statement`, each decoded as ``first(_:arguments:_:)`` decodes one.
    static func all<T>(_ statement: Statement, arguments: StatementArguments,
                       _ decode: (SQLiteColumns) throws -> T) throws -> [T] {
        try withoutActuallyEscaping(decode) { decode in
            try Array(SQLiteColumnsCursor(statement, arguments: arguments, decode: decode))
        }
    }

    static func owns(_ db: Database, conversationID: UUID, owner: UserID) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM conversations WHERE id = ? AND owner_id = ?",
                          arguments: [conversationID.lowercased, owner.rawValue]) != nil
    }

    static func uuid(_ row: Row, _ column: String) throws -> UUID {
        let text: String = row[column]
        guard let id = UUID(text: text) else { throw StoreError.corrupt("bad id \(text) in \(column)") }
        return id
    }

    static func conversation(from row: Row) throws -> Conversation {
        var conversation = Conversation(id: try uuid(row, "id"), ownerID: UserID(row["owner_id"]), title: row["title"],
                     model: row["model"], systemPrompt: row["system_prompt"], messageCount: row["message_count"],
                     createdAt: Date(millis: row["created_at"]), updatedAt: Date(millis: row["updated_at"]),
                     knowledgeBaseIDs: Conversation.knowledgeBaseIDs(column: row["knowledge_base_ids"] ?? ""),
                     parameters: ChatParameters(column: row["parameters"]))
        conversation.retrieval = RetrievalSettings(column: row["retrieval"])
        conversation.pinned = row["pinned"] ?? false
        conversation.archivedAt = (row["archived_at"] as Int64?).map { Date(millis: $0) }
        conversation.tags = Conversation.tags(column: row["tags"] ?? "")
        return conversation
    }

    /// The message columns in table order, so `RETURNING *` rows decode the same way; feedback may follow.
    static let messageColumns = """
        m.id, m.conversation_id, m.idx, m.parent_id, m.role, m.content, m.model, m.status, m.error, \
        m.prompt_tokens, m.completion_tokens, m.ttft_ms, m.latency_ms, m.created_at, m.updated_at, m.sources, \
        m.parameters, m.cache, m.reasoning, m.reasoning_ms, m.finish_reason, m.active, m.attachments
        """

    /// Decodes a row of ``messageColumns`` (plus rating, comment, updated_at of feedback) by position.
    static func message(from row: some ColumnsByPosition) throws -> Message {
        let idText: String = row[column: 0]
        let conversationText: String = row[column: 1]
        let parent: String? = row[column: 3]
        let roleText: String = row[column: 4]
        let statusText: String = row[column: 7]
        guard let id = UUID(text: idText), let conversationID = UUID(text: conversationText),
              let role = Role(rawValue: roleText), let status = MessageStatus(rawValue: statusText) else {
            throw StoreError.corrupt("bad message row \(idText): \(roleText), \(statusText)")
        }
        var feedback: Feedback?
        if row.count > 23, let rating: Int = row[column: 23] {
            feedback = Feedback(rating: rating, comment: row[column: 24], updatedAt: Date(millis: row[column: 25]))
        }
        let parameters: String? = row[column: 16]
        var message = Message(id: id, conversationID: conversationID, index: row[column: 2], parentID: parent.flatMap { UUID(text: $0) },
                       role: role, content: row[column: 5], model: row[column: 6], status: status, errorMessage: row[column: 8],
                       promptTokens: row[column: 9], completionTokens: row[column: 10], timeToFirstTokenMs: row[column: 11],
                       latencyMs: row[column: 12], createdAt: Date(millis: row[column: 13]), updatedAt: Date(millis: row[column: 14]),
                       feedback: feedback, sources: row[column: 15], parameters: parameters.map { ChatParameters(column: $0) },
                       cache: row[column: 17], reasoning: row[column: 18], reasoningMs: row[column: 19], finishReason: row[column: 20])
            .onBranch(row[column: 21])
        message.attachments = AttachmentReference.references(column: row[column: 22])
        return message
    }
}
