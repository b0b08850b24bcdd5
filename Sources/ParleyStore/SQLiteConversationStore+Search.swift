import Foundation
import GRDB
import ParleyCore

/// Full-text search over FTS5, ranked by bm25. Messages reach the index in batches (``SQLiteSearchIndexer``);
/// a search first indexes whatever is pending.
extension SQLiteConversationStore {
    /// The FTS5 query for the terms: each a quoted string (terms hold only letters and digits), all required,
    /// the last also as a prefix.
    static func matchExpression(_ terms: SearchTerms) -> String {
        terms.words.enumerated().map { index, word in
            index == terms.words.count - 1 ? "\"\(word)\"*" : "\"\(word)\""
        }.joined(separator: " ")
    }

    public func search(owner: UserID, terms: SearchTerms, limit: Int, offset: Int) async throws -> SearchResults {
        let match = Self.matchExpression(terms)
        try await searchIndexer.catchUp(store: self)
        return try await read { db in
            let conversationRows = try Row.fetchAll(db, sql: """
                SELECT c.*, bm25(conversations_fts) AS rank
                FROM conversations_fts JOIN conversations c ON c.rowid = conversations_fts.rowid
                WHERE conversations_fts MATCH ? AND c.owner_id = ?
                ORDER BY rank, c.updated_at DESC LIMIT ? OFFSET ?
                """, arguments: [match, owner.rawValue, limit + 1, offset])
            let messageRows = try Row.fetchAll(db, sql: """
                SELECT m.id, m.conversation_id, m.idx, m.role, m.content, m.created_at, c.title,
                       bm25(messages_fts) AS rank
                FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid
                JOIN conversations c ON c.id = m.conversation_id
                WHERE messages_fts MATCH ? AND c.owner_id = ? AND m.status <> 'streaming'
                ORDER BY rank, m.created_at DESC LIMIT ? OFFSET ?
                """, arguments: [match, owner.rawValue, limit + 1, offset])
            let conversations = try conversationRows.prefix(limit).map { row in
                // bm25 is better when lower; scores are better when higher.
                ConversationHit(conversation: try Self.conversation(from: row), score: -(row["rank"] as Double))
            }
            let messages = try messageRows.prefix(limit).map { row -> MessageHit in
                let roleText: String = row["role"]
                guard let role = Role(rawValue: roleText) else { throw StoreError.corrupt("bad role \(roleText)") }
                return MessageHit(messageID: try Self.uuid(row, "id"), conversationID: try Self.uuid(row, "conversation_id"),
                                  conversationTitle: row["title"], index: row["idx"], role: role,
                                  createdAt: Date(millis: row["created_at"]),
                                  snippet: SearchSnippet.make(from: row["content"], words: terms.words),
                                  score: -(row["rank"] as Double))
            }
            return SearchResults(conversations: conversations, messages: messages,
                                 hasMore: conversationRows.count > limit || messageRows.count > limit)
        }
    }
}
