import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ParleyCore

/// A Parley server's REST API (`/api/v1`), as the terminal client uses it. Every failure is a ``ClientFailure``
/// with a one-line reason: the server unreachable, the key refused, the server's own error message.
public final class RemoteParley: Sendable {
    public let settings: ClientSettings
    let client = HTTPClient(eventLoopGroupProvider: .singleton)

    public init(settings: ClientSettings) {
        self.settings = settings
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    // MARK: Calls

    public func models() async throws -> (models: [RemoteModel], defaultModel: String?) {
        let list: ModelList = try await call(.GET, "/models")
        return (list.data, list.default)
    }

    /// The newest conversations first (by last activity), up to `limit`; `search` matches titles.
    public func conversations(limit: Int, search: String? = nil) async throws -> [RemoteConversation] {
        var found: [RemoteConversation] = []
        var cursor: String?
        repeat {
            var query = [URLQueryItem(name: "limit", value: String(min(200, limit - found.count)))]
            if let search { query.append(URLQueryItem(name: "q", value: search)) }
            if let cursor { query.append(URLQueryItem(name: "cursor", value: cursor)) }
            let page: ConversationPage = try await call(.GET, "/conversations", query: query)
            found += page.data
            cursor = page.nextCursor
        } while cursor != nil && found.count < limit
        return found
    }

    public func conversation(_ id: String) async throws -> RemoteConversation {
        try await call(.GET, "/conversations/\(try Self.pathID(id))")
    }

    public func createConversation(model: String?, systemPrompt: String?, knowledgeBaseIDs: [String] = [],
                                   retrieval: RetrievalSettings = RetrievalSettings()) async throws -> RemoteConversation {
        struct Body: Encodable {
            var model: String?
            var system_prompt: String?
            var knowledge_base_ids: [String]?
            var retrieval: RetrievalSettings?
        }
        return try await call(.POST, "/conversations", body: Body(model: model, system_prompt: systemPrompt,
                                                                 knowledge_base_ids: knowledgeBaseIDs.isEmpty ? nil : knowledgeBaseIDs,
                                                                 retrieval: retrieval.isEmpty ? nil : retrieval))
    }

    /// Makes the conversation answer from these knowledge bases (ids), when any are given, and search them as
    /// `retrieval` says, when it says anything.
    public func setKnowledge(_ ids: [String], retrieval: RetrievalSettings = RetrievalSettings(), of id: String) async throws {
        guard !ids.isEmpty || !retrieval.isEmpty else { return }
        struct Body: Encodable {
            var knowledge_base_ids: [String]?
            var retrieval: RetrievalSettings?
        }
        let _: RemoteConversation = try await call(.PATCH, "/conversations/\(try Self.pathID(id))",
                                                   body: Body(knowledge_base_ids: ids.isEmpty ? nil : ids,
                                                              retrieval: retrieval.isEmpty ? nil : retrieval))
    }

    /// The ids of the knowledge bases named (by name, case-insensitively, or by id) among those the user may read.
    public func knowledgeBaseIDs(named names: [String]) async throws -> [String] {
        guard !names.isEmpty else { return [] }
        let list: KnowledgeBaseList = try await call(.GET, "/knowledge-bases")
        return try names.map { name in
            guard let base = list.data.first(where: { $0.id == name.lowercased() })
                ?? list.data.first(where: { $0.name.lowercased() == name.lowercased() }) else {
                throw ClientFailure("no knowledge base named '\(name)' (the web UI's 📚 lists yours)")
            }
            return base.id
        }
    }

    public func setSystemPrompt(_ prompt: String, of id: String) async throws {
        struct Body: Encodable { var system_prompt: String }
        let _: RemoteConversation = try await call(.PATCH, "/conversations/\(try Self.pathID(id))", body: Body(system_prompt: prompt))
    }

    public func setModel(_ model: String, of id: String) async throws {
        struct Body: Encodable { var model: String }
        let _: RemoteConversation = try await call(.PATCH, "/conversations/\(try Self.pathID(id))", body: Body(model: model))
    }

    /// Full-text search of the user's conversation titles and messages, best first.
    public func search(_ words: String, limit: Int = 20) async throws -> RemoteSearchResults {
        try await call(.GET, "/search", query: [URLQueryItem(name: "q", value: words), URLQueryItem(name: "limit", value: String(limit))])
    }

    /// Every message of a conversation, oldest first, read page by page.
    public func messages(of id: String) async throws -> [RemoteMessage] {
        var messages: [RemoteMessage] = []
        var after = 0
        while true {
            let page: MessagePage = try await call(.GET, "/conversations/\(try Self.pathID(id))/messages",
                                                   query: [URLQueryItem(name: "after", value: String(after)),
                                                           URLQueryItem(name: "limit", value: "200")])
            messages += page.data
            guard let next = page.nextAfter else { return messages }
            after = next
        }
    }

    public func deleteConversation(_ id: String) async throws {
        _ = try await send(.DELETE, "/conversations/\(try Self.pathID(id))", body: nil, accept: "application/json")
    }

    /// Posts a message and waits for the whole answer.
    public func ask(_ content: String, in conversation: String, model: String?) async throws -> RemoteTurn {
        try await call(.POST, "/conversations/\(try Self.pathID(conversation))/messages",
                       body: PostBody(content: content, model: model, replaces: nil))
    }

    /// Stops an answer being generated (it is kept, marked cancelled).
    public func stop(message id: String) async throws {
        _ = try await send(.POST, "/messages/\(try Self.pathID(id))/stop", body: nil, accept: "application/json")
    }

    struct PostBody: Encodable {
        var content: String
        var model: String?
        var replaces: String?
    }

    // MARK: HTTP

    func call<Reply: Decodable>(_ method: HTTPMethod, _ path: String, query: [URLQueryItem] = []) async throws -> Reply {
        try Self.decode(Reply.self, try await send(method, path, query: query, body: nil, accept: "application/json"))
    }

    func call<Reply: Decodable>(_ method: HTTPMethod, _ path: String, body: some Encodable) async throws -> Reply {
        try Self.decode(Reply.self, try await send(method, path, body: try JSONEncoder().encode(body), accept: "application/json"))
    }

    /// The response of a request that succeeded (2xx), its body read whole.
    func send(_ method: HTTPMethod, _ path: String, query: [URLQueryItem] = [], body: Data?, accept: String) async throws -> String {
        let response = try await open(method, path, query: query, body: body, accept: accept, lastEventID: nil)
        return try await Self.collect(response)
    }

    /// Sends a request and returns the response once its head arrived; a non-2xx status is a ``ClientFailure``.
    func open(_ method: HTTPMethod, _ path: String, query: [URLQueryItem] = [], body: Data?, accept: String,
              lastEventID: Int?) async throws -> HTTPClientResponse {
        var components = URLComponents(string: settings.url + "/api/v1" + path)
        if !query.isEmpty { components?.queryItems = query }
        guard let url = components?.string else { throw ClientFailure("cannot make a request for \(path)") }
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: accept)
        request.headers.add(name: "User-Agent", value: "parley-cli")
        if let key = settings.key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: String(lastEventID)) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(3600))
        } catch {
            throw ClientFailure("cannot reach Parley at \(settings.url): \(Self.reason(error))", kind: .unreachable)
        }
        guard (200..<300).contains(response.status.code) else {
            let text = (try? await Self.collect(response)) ?? ""
            throw ClientFailure.http(Int(response.status.code), body: text, url: settings.url)
        }
        return response
    }

    static func collect(_ response: HTTPClientResponse) async throws -> String {
        do {
            return String(buffer: try await response.body.collect(upTo: 64 << 20))
        } catch {
            throw ClientFailure("the connection broke while reading the answer: \(reason(error))")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw ClientFailure("the server's answer is not what this client expects (is it a Parley server?)")
        }
    }

    /// An id as it goes in a path: a UUID, or refused before anything is sent.
    static func pathID(_ id: String) throws -> String {
        guard let uuid = UUID(uuidString: id) else { throw ClientFailure("'\(id)' is not an id") }
        return uuid.uuidString.lowercased()
    }

    /// A short reason for a transport error: "connection refused", "timed out", …
    static func reason(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        if text.contains("connectTimeout") || text.contains("deadlineExceeded") || text.contains("timeout") { return "timed out" }
        if text.contains("remoteConnectionClosed") || text.contains("closed") { return "the connection closed" }
        return text.count > 160 ? String(text.prefix(160)) + "…" : text
    }
}
