import Foundation
import ParleyCore
import PostgresNIO

/// Reading rows back into domain values.
extension PostgresConversationStore {
    static func conversation(from row: PostgresRow) throws -> Conversation {
        let columns = row.makeRandomAccess()
        var conversation = Conversation(
            id: try columns["id"].decode(UUID.self), ownerID: UserID(try columns["owner_id"].decode(String.self)),
            title: try columns["title"].decode(String.self), model: try columns["model"].decode(String?.self),
            systemPrompt: try columns["system_prompt"].decode(String?.self),
            messageCount: try columns["message_count"].decode(Int.self),
            createdAt: Date(millis: try columns["created_at"].decode(Int64.self)),
            updatedAt: Date(millis: try columns["updated_at"].decode(Int64.self)),
            knowledgeBaseIDs: Conversation.knowledgeBaseIDs(
                column: columns.contains("knowledge_base_ids") ? try columns["knowledge_base_ids"].decode(String.self) : ""),
            parameters: ChatParameters(column: columns.contains("parameters") ? try columns["parameters"].decode(String?.self) : nil))
        if columns.contains("retrieval") { conversation.retrieval = RetrievalSettings(column: try columns["retrieval"].decode(String?.self)) }
        if columns.contains("pinned") { conversation.pinned = try columns["pinned"].decode(Bool.self) }
        if columns.contains("archived_at") {
            conversation.archivedAt = try columns["archived_at"].decode(Int64?.self).map { Date(millis: $0) }
        }
        if columns.contains("tags") { conversation.tags = Conversation.tags(column: try columns["tags"].decode(String.self)) }
        return conversation
    }

    /// Decodes ``messageColumns`` (plus rating, comment and f_updated_at of feedback when present).
    static func message(from row: PostgresRow) throws -> Message {
        let columns = row.makeRandomAccess()
        let roleText = try columns["role"].decode(String.self)
        let statusText = try columns["status"].decode(String.self)
        guard let role = Role(rawValue: roleText), let status = MessageStatus(rawValue: statusText) else {
            throw StoreError.corrupt("bad role or status: \(roleText), \(statusText)")
        }
        var feedback: Feedback?
        if columns.contains("rating"), let rating = try columns["rating"].decode(Int?.self) {
            feedback = Feedback(rating: rating, comment: try columns["comment"].decode(String?.self),
                                updatedAt: Date(millis: try columns["f_updated_at"].decode(Int64.self)))
        }
        var message = Message(
            id: try columns["id"].decode(UUID.self), conversationID: try columns["conversation_id"].decode(UUID.self),
            index: try columns["idx"].decode(Int.self), parentID: try columns["parent_id"].decode(UUID?.self),
            role: role, content: try columns["content"].decode(String.self),
            model: try columns["model"].decode(String?.self), status: status,
            errorMessage: try columns["error"].decode(String?.self),
            promptTokens: try columns["prompt_tokens"].decode(Int?.self),
            completionTokens: try columns["completion_tokens"].decode(Int?.self),
            timeToFirstTokenMs: try columns["ttft_ms"].decode(Int?.self),
            latencyMs: try columns["latency_ms"].decode(Int?.self),
            createdAt: Date(millis: try columns["created_at"].decode(Int64.self)),
            updatedAt: Date(millis: try columns["updated_at"].decode(Int64.self)), feedback: feedback,
            sources: columns.contains("sources") ? try columns["sources"].decode(String?.self) : nil,
            parameters: (columns.contains("parameters") ? try columns["parameters"].decode(String?.self) : nil)
                .map { ChatParameters(column: $0) },
            cache: columns.contains("cache") ? try columns["cache"].decode(String?.self) : nil,
            reasoning: columns.contains("reasoning") ? try columns["reasoning"].decode(String?.self) : nil,
            reasoningMs: columns.contains("reasoning_ms") ? try columns["reasoning_ms"].decode(Int?.self) : nil,
            finishReason: columns.contains("finish_reason") ? try columns["finish_reason"].decode(String?.self) : nil)
            .onBranch(columns.contains("active") ? try columns["active"].decode(Bool.self) : true)
        if columns.contains("attachments") {
            message.attachments = AttachmentReference.references(column: try columns["attachments"].decode(String?.self))
        }
        return message
    }
}
