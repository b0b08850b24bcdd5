import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ParleyProviders

/// What a streamed answer brings, in order, each piece of text once.
public enum AnswerEvent: Sendable {
    /// The answer's message exists on the server (its id, to stop it).
    case started(messageID: String)
    /// New text of the answer.
    case text(String)
}

/// How a streamed answer ended when it did not complete.
public struct UnfinishedAnswer: Error, CustomStringConvertible, Sendable {
    /// The message as stored: `cancelled`, `interrupted` or `error`, with the text that came.
    public let message: RemoteMessage
    public let reason: String
    public var description: String { reason }
}

extension RemoteParley {
    /// Posts `content` to a conversation and streams the answer, calling `onEvent` with each new piece of text.
    /// A stream that breaks, or that a replica shutting down ends with `reattach`, is picked up again from the
    /// last event seen (`Last-Event-ID`), through any replica, for up to `reattachFor`: the text goes on where it
    /// stopped, never repeated. Returns the complete message; throws ``UnfinishedAnswer`` for one stopped,
    /// interrupted or failed, ``ClientFailure`` otherwise.
    /// `replacing` names an earlier user message of the conversation: it and what followed give way to this one.
    public func streamAnswer(_ content: String, in conversation: String, model: String?, replacing: String? = nil,
                             reattachFor: Duration = .seconds(60),
                             onEvent: (AnswerEvent) async throws -> Void) async throws -> RemoteMessage {
        var state = StreamState()
        var response = try await open(.POST, "/conversations/\(try Self.pathID(conversation))/messages",
                                      body: try JSONEncoder().encode(PostBody(content: content, model: model, replaces: replacing)),
                                      accept: "text/event-stream", lastEventID: nil)
        while true {
            if let finished = try await read(response, into: &state, onEvent: onEvent) { return finished }
            guard let assistant = state.assistantID else {
                throw ClientFailure("the connection broke before the answer started; see the conversation with `parley conversations show \(conversation)`")
            }
            response = try await reattach(assistant, after: state.lastEventID, within: reattachFor)
        }
    }

    private struct StreamState {
        var lastEventID = 0
        var assistantID: String?
        /// The answer's text given out so far.
        var given = ""
    }

    private struct Delta: Decodable {
        var content: String
    }

    private struct ErrorEvent: Decodable {
        var error: ErrorBody.Detail
        var message: RemoteMessage
    }

    /// Reads events until the answer ends (its message) or the stream does (nil: reattach).
    private func read(_ response: HTTPClientResponse, into state: inout StreamState,
                      onEvent: (AnswerEvent) async throws -> Void) async throws -> RemoteMessage? {
        var decoder = SSEDecoder()
        do {
            for try await chunk in response.body {
                for event in try decoder.feed(chunk.readableBytesView) {
                    if let id = event.id.flatMap(Int.init) { state.lastEventID = id }
                    switch event.event {
                    case "message":
                        let message = try Self.decode(RemoteMessage.self, event.data)
                        guard message.role == "assistant" else { continue }
                        if state.assistantID == nil { try await onEvent(.started(messageID: message.id)) }
                        state.assistantID = message.id
                        try await catchUp(to: message.content, &state, onEvent)
                    case "delta":
                        let delta = try Self.decode(Delta.self, event.data)
                        state.given += delta.content
                        try await onEvent(.text(delta.content))
                    case "done":
                        let message = try Self.decode(RemoteMessage.self, event.data)
                        try await catchUp(to: message.content, &state, onEvent)
                        guard message.status == "complete" else {
                            throw UnfinishedAnswer(message: message, reason: "the answer was \(message.status == "cancelled" ? "stopped" : message.status)")
                        }
                        return message
                    case "error":
                        let failure = try Self.decode(ErrorEvent.self, event.data)
                        try await catchUp(to: failure.message.content, &state, onEvent)
                        throw UnfinishedAnswer(message: failure.message, reason: "the answer failed: \(failure.error.message ?? "unknown error")")
                    case "reattach":
                        return nil
                    default:
                        continue
                    }
                }
            }
        } catch let error as UnfinishedAnswer {
            throw error
        } catch let error as ClientFailure {
            throw error
        } catch is SSEDecoder.LineTooLong {
            throw ClientFailure("the server sent an event too large to read")
        } catch {
            return nil  // The connection broke: reattach.
        }
        return nil
    }

    /// Gives out what a snapshot of the message has beyond the text already given.
    private func catchUp(to content: String, _ state: inout StreamState, _ onEvent: (AnswerEvent) async throws -> Void) async throws {
        guard content.count > state.given.count, content.hasPrefix(state.given) else { return }
        let rest = String(content.dropFirst(state.given.count))
        state.given = content
        try await onEvent(.text(rest))
    }

    /// Opens the message's event stream after `lastEventID`, retrying while the server cannot be reached.
    private func reattach(_ message: String, after lastEventID: Int, within limit: Duration) async throws -> HTTPClientResponse {
        let deadline = ContinuousClock.now + limit
        var pause = Duration.milliseconds(100)
        while true {
            do {
                return try await open(.GET, "/messages/\(message)/events", body: nil, accept: "text/event-stream",
                                      lastEventID: lastEventID)
            } catch let failure as ClientFailure where failure.isPassing {
                guard ContinuousClock.now + pause < deadline else {
                    throw ClientFailure("the stream broke and Parley did not come back within \(limit): \(failure)")
                }
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(2))
            }
        }
    }
}
