import Foundation
import HTTPTypes
import Hummingbird
import ParleyCore
import ParleyStore

/// Read-only links to a conversation. Its owner makes them (`POST /api/v1/conversations/{id}/shares` with
/// `audience`: `anyone` or `signed_in`), lists and revokes them; whoever has a link reads the conversation as it
/// was when shared at `/api/v1/shared/{token}` (and the page `/s/{token}`), and nothing else: no other
/// conversation, no account, no message of it written after the link was made.
struct ShareRoutes {
    static let maxPerConversation = 20
    static let maxPageSize = 100

    let store: GuardedConversationStore
    let authenticator: Authenticator
    let bodyLimit: Int

    /// The owner's routes, under the signed-in API.
    func registerOwned(on group: some RouterMethods<ParleyRequestContext>) {
        group.post("conversations/:id/shares", use: create)
        group.get("conversations/:id/shares", use: list)
        group.delete("conversations/:id/shares/:share", use: revoke)
    }

    /// The link's routes, for anyone (or any signed-in user) with it.
    func registerShared(on group: some RouterMethods<ParleyRequestContext>) {
        group.get(":token", use: shared)
        group.get(":token/messages", use: sharedMessages)
    }

    @Sendable func create(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "conversation")
        var request = request
        let body = try await request.decodeJSON(API.NewShare.self, limit: bodyLimit)
        let audience: ShareAudience
        switch body.audience {
        case nil: audience = .signedIn
        case let name?:
            guard let known = ShareAudience(rawValue: name) else {
                throw ClientError.invalid("'audience' must be 'anyone' or 'signed_in'", param: "audience")
            }
            audience = known
        }
        let token = VisitorToken.newToken()
        let share = try await store.createShare(conversationID: id, owner: context.owner, audience: audience,
                                                tokenDigest: VisitorToken.digest(token), maxPerConversation: Self.maxPerConversation)
        var response = try Response.json(API.Share(share, token: token), status: .created)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func list(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let shares = try await store.shares(conversationID: try context.uuid("id", kind: "conversation"), owner: context.owner)
        return try Response.json(API.ShareList(data: shares.map { API.Share($0, token: nil) }))
    }

    @Sendable func revoke(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        try await store.deleteShare(id: try context.uuid("share", kind: "shared link"),
                                    conversationID: try context.uuid("id", kind: "conversation"), owner: context.owner)
        return Response(status: .noContent)
    }

    /// The conversation's title and when it was shared.
    @Sendable func shared(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let shared = try await link(request, context)
        var object = JSONObjectText()
        object.field("title", shared.title)
        object.field("audience", shared.share.audience.rawValue)
        object.field("shared_at", API.time(shared.share.createdAt))
        return Self.private(Response.json(text: object.closed))
    }

    /// The shared messages, newest page first (`before` pages back), as ``API/sharedMessageJSON(_:)`` shows them.
    @Sendable func sharedMessages(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let shared = try await link(request, context)
        let query = Query(request)
        let limit = try query.integer("limit", in: 1...Self.maxPageSize) ?? 50
        let end = shared.share.throughIndex + 1
        let before = min(try query.integer("before", in: 1...CheckedNumber.wholeLimit) ?? end, end)
        let page = try await store.messages(conversationID: shared.share.conversationID, owner: shared.ownerID,
                                            window: .before(before), limit: limit)
        var object = JSONObjectText()
        object.field("data", json: "[" + page.messages.map(API.sharedMessageJSON).joined(separator: ",") + "]")
        object.field("has_more", page.hasMore)
        object.field("next_before", page.hasMore ? page.messages.first?.index : nil)
        return Self.private(Response.json(text: object.closed))
    }

    /// The link named by the path, if the requester may read it: anyone for `anyone`, a signed-in user (or an API
    /// key's owner) for `signed_in`. A token of the wrong shape is as unknown as a revoked one.
    private func link(_ request: Request, _ context: ParleyRequestContext) async throws -> SharedConversation {
        let token = context.parameters.get("token") ?? ""
        guard VisitorToken.isToken(token) else { throw ClientError.notFound("no conversation is shared at this link") }
        let shared = try await store.sharedConversation(tokenDigest: VisitorToken.digest(token))
        if shared.share.audience == .signedIn, try await authenticator.principal(of: request, context: context) == nil {
            throw ClientError.unauthorized("this conversation is shared with signed-in users: sign in to read it")
        }
        return shared
    }

    /// Shared pages are not kept by shared caches, nor by the browser once the link is revoked.
    private static func `private`(_ response: Response) -> Response {
        var response = response
        response.headers[.cacheControl] = "private, no-cache"
        return response
    }
}
