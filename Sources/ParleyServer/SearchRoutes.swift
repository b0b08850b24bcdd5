import Foundation
import Hummingbird
import ParleyCore
import ParleyStore

/// `GET /api/v1/search?q=…&limit=&offset=`: ranked full-text search of the user's conversation titles and
/// finished messages, on SQLite (FTS5) and PostgreSQL (full-text search) alike.
struct SearchRoutes {
    static let maxQueryLength = 200
    static let maxLimit = 50
    static let maxOffset = 1_000

    let store: GuardedConversationStore

    func register(on group: some RouterMethods<ParleyRequestContext>) {
        group.get("search", use: search)
    }

    @Sendable func search(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let query = Query(request)
        guard let text = try query.string("q", maxLength: Self.maxQueryLength) else {
            throw ClientError.invalid("'q' is required: the words to search for")
        }
        try rejectNUL(text, field: "q")
        guard let terms = SearchTerms(text) else {
            throw ClientError.invalid("'q' must contain at least one letter or digit")
        }
        let limit = try query.integer("limit", in: 1...Self.maxLimit) ?? 20
        let offset = try query.integer("offset", in: 0...Self.maxOffset) ?? 0
        let results = try await store.search(owner: context.owner, terms: terms, limit: limit, offset: offset)
        return try Response.json(API.SearchResults(results, terms: terms, offset: offset, limit: limit))
    }
}
