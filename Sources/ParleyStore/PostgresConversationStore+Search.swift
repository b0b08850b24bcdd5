import Foundation
import ParleyCore
import PostgresNIO

/// Full-text search over GIN indexes of `to_tsvector('simple', …)`, ranked by `ts_rank`. Matching messages are
/// found through the text index first (a materialized CTE), whatever the planner's statistics say: with stale
/// ones (right after an import) it would otherwise scan every message of the user.
extension PostgresConversationStore {
    /// The `to_tsquery` text for the terms: each quoted (terms hold only letters and digits), all required
    /// (`&`), the last also as a prefix (`:*`).
    static func tsQuery(_ terms: SearchTerms) -> String {
        terms.words.enumerated().map { index, word in
            index == terms.words.count - 1 ? "'\(word)':*" : "'\(word)'"
        }.joined(separator: " & ")
    }

    public func search(owner: UserID, terms: SearchTerms, limit: Int, offset: Int) async throws -> SearchResults {
        var binds = PostgresBindings()
        binds.append(Self.tsQuery(terms))
        binds.append(owner.rawValue)
        binds.append(limit + 1)
        binds.append(offset)
        let (conversationRows, messageRows) = try await perform {
            try await client.withConnection { connection in
                let conversations = try await connection.query(PostgresQuery(unsafeSQL: """
                    SELECT c.*, ts_rank(to_tsvector('simple', c.title), to_tsquery('simple', $1))::float8 AS rank
                    FROM conversations c
                    WHERE to_tsvector('simple', c.title) @@ to_tsquery('simple', $1) AND c.owner_id = $2
                    ORDER BY rank DESC, c.updated_at DESC LIMIT $3 OFFSET $4
                    """, binds: binds), logger: logger).collect()
                let messages = try await connection.query(PostgresQuery(unsafeSQL: """
                    WITH hits AS MATERIALIZED (
                        SELECT id, conversation_id, idx, role, content, created_at,
                               ts_rank(to_tsvector('simple', content), to_tsquery('simple', $1))::float8 AS rank
                        FROM messages
                        WHERE to_tsvector('simple', content) @@ to_tsquery('simple', $1) AND status <> 'streaming'
                    )
                    SELECT h.id, h.conversation_id, h.idx, h.role, h.content, h.created_at, c.title, h.rank
                    FROM hits h JOIN conversations c ON c.id = h.conversation_id
                    WHERE c.owner_id = $2
                    ORDER BY h.rank DESC, h.created_at DESC LIMIT $3 OFFSET $4
                    """, binds: binds), logger: logger).collect()
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
