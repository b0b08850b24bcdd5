import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ParleyCore
import ParleyStore

/// `/api/v1/messages/{id}`: read one, follow or reattach to its generation, stop it, rate it.
struct MessageRoutes {
    static let maxCommentLength = 10_000

    let store: GuardedConversationStore
    let feed: GenerationFeed
    let drain: Drain
    /// Largest request body read.
    let bodyLimit: Int

    func register(on group: some RouterMethods<ParleyRequestContext>) {
        group.get("messages/:id", use: get)
        group.get("messages/:id/events", use: events)
        group.post("messages/:id/stop", use: stop)
        group.put("messages/:id/feedback", use: putFeedback)
        group.delete("messages/:id/feedback", use: deleteFeedback)
    }

    @Sendable func get(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "message")
        return Response.json(text: API.messageJSON(try await store.message(id: id, owner: context.owner)))
    }

    /// Reattaches: events after `Last-Event-ID` (header, or `last_event_id` query for clients that cannot set it).
    @Sendable func events(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "message")
        let events = try await feed.events(messageID: id, owner: context.owner, after: try Self.lastEventID(request))
        return ServerSentEvents.response(events, context: context, drain: drain)
    }

    /// The last event a reattaching client saw: `Last-Event-ID`, or `last_event_id` for clients that cannot set it.
    static func lastEventID(_ request: Request) throws -> Int? {
        if let header = request.headers.value(of: HTTPField.Name("Last-Event-ID")!) {
            guard let value = CheckedNumber.integer(header, in: 0...CheckedNumber.wholeLimit) else {
                throw ClientError.invalid("Last-Event-ID must be a whole number from 0 to \(CheckedNumber.wholeLimit)")
            }
            return value
        }
        return try Query(request).integer("last_event_id", in: 0...CheckedNumber.wholeLimit)
    }

    /// Stops a running generation — here or on another replica — and answers with the message as stored
    /// (status `cancelled`). Stopping a message that already finished answers with it unchanged, so a late
    /// click is harmless.
    @Sendable func stop(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "message")
        return Response.json(text: API.messageJSON(try await feed.stop(messageID: id, owner: context.owner)))
    }

    @Sendable func putFeedback(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "message")
        var request = request
        let body = try await request.decodeJSON(API.PutFeedback.self, limit: bodyLimit)
        try body.check()
        let feedback = try await store.setFeedback(messageID: id, owner: context.owner,
                                                            rating: body.rating, comment: body.comment)
        return try Response.json(API.Feedback(feedback))
    }

    @Sendable func deleteFeedback(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "message")
        try await store.deleteFeedback(messageID: id, owner: context.owner)
        return Response(status: .noContent)
    }
}
