import Foundation
import ParleyCore
import PostgresNIO

/// Full-text search over GIN indexes of `to_tsvector('simple', …)`, ranked by `ts_rank`.
extension PostgresConversationStore {
    /// The `to_tsquery` text for the terms: each quoted (terms hold only letters and digits), all required
    /// (`&`), the last also as a prefix (`:*`).
    static func tsQuery(_ terms: SearchTerms) -> String {
        terms.words.enumerated().map { index, word in
            index == terms.words.count - 1 ? "'\(word)':*" : "'\(word)'"
        }.joined(separator: " & ")
    }

    public func search(owner: UserID, terms: SearchTerms, limit: Int, offset: Int) async throws -> SearchResults {
        let query = Self.tsQuery(terms)
        let (conversationRows, messageRows) = try await perform {
            try await client.withConnection { connection in
                let conversations = try await connection.query("""
                    SELECT c.*, ts_rank(to_tsvector('simple', c.title), q)::float8 AS rank
                    FROM conversations c, to_tsquery('simple', \(query)) q
                    WHERE to_tsvector('simple', c.title) @@ q AND c.owner_id = \(owner.rawValue)
                    ORDER BY rank DESC, c.updated_at DESC LIMIT \(limit + 1) OFFSET \(offset)
                    """, logger: logger).collect()
                let messages = try await connection.query("""
                    SELECT m.id, m.conversation_id, m.idx, m.role, m.content, m.created_at, c.title,
                           ts_rank(to_tsvector('simple', m.content), q)::float8 AS rank
                    FROM messages m JOIN conversations c ON c.id = m.conversation_id, to_tsquery('simple', \(query)) q
                    WHERE to_tsvector('simple', m.content) @@ q AND m.status <> 'streaming'
                      AND c.owner_id = \(owner.rawValue)
                    ORDER BY rank DESC, m.created_at DESC LIMIT \(limit + 1) OFFSET \(offset)
                    """, logger: logger).collect()
                return (conversations, messages)
            }
        }
        let conversations = try conversationRows.prefix(limit).map { row in
            ConversationHit(conversation: try Self.conversation(from: row),
                            score: try row.makeRandomAccess()["rank"].decode(Double.self))
        }
        let messages = try messageRows.prefix(limit).map { row -> MessageHit in
            let (id, conversationID, index, roleText, content, createdAt, title, rank) =
                try row.decode((UUID, UUID, Int, String, String, Int64, String, Double).self)
            guard let role = Role(rawValue: roleText) else { throw StoreError.corrupt("bad role \(roleText)") }
            return MessageHit(messageID: id, conversationID: conversationID, conversationTitle: title, index: index,
                              role: role, createdAt: Date(millis: createdAt),
                              snippet: SearchSnippet.make(from: content, words: terms.words), score: rank)
        }
        return SearchResults(conversations: conversations, messages: messages,
                             hasMore: conversationRows.count > limit || messageRows.count > limit)
    }
}
