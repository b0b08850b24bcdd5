import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import ParleyMockLLM
import ParleyTestSupport
import ParleyProviders
import ParleyServer
import Testing

/// A real Parley server on a loopback port with its own SQLite file, in front of a real mock model server.
final class TestParley: ParleyAPI {
    let server: BackgroundService
    let mock: BackgroundService?
    let mockServer: MockLLMServer?
    let client: HTTPClient
    let directory: String
    let baseURL: String
    let credentials = TestCredentials()
    var port: Int { server.port }

    private init(server: BackgroundService, mock: BackgroundService?, mockServer: MockLLMServer?, client: HTTPClient,
                 directory: String) {
        self.server = server
        self.mock = mock
        self.mockServer = mockServer
        self.client = client
        self.directory = directory
        self.baseURL = "http://127.0.0.1:\(server.port)"
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "parley.test")
        logger.logLevel = .critical
        return logger
    }

    /// Starts a mock (unless `withUpstream` is false) and a Parley configured to use it. With `signedIn`, the
    /// first administrator is created and the client acts with their API key.
    static func start(withUpstream: Bool = true, mockOptions: MockLLMServer.Options = MockLLMServer.Options(),
                      signedIn: Bool = true, configure: (inout ParleyConfig) -> Void = { _ in }) async throws -> TestParley {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var mock: BackgroundService?
        var mockServer: MockLLMServer?
        var config = ParleyConfig()
        config.port = 0
        config.databaseURL = "sqlite://\(directory)/parley.db"
        config.timeouts = UpstreamTimeouts(connect: .seconds(5), firstToken: .seconds(30), idle: .seconds(30), total: .seconds(120))
        config.shutdownGrace = .milliseconds(200)
        // The cheapest accepted scrypt cost: tests sign in often, and the cost is not what they check.
        config.passwordHash = .init(logN: 14, r: 8, p: 1)
        // Titles stay the first line of the first message unless a test asks for model-written ones.
        config.titles = .off
        if withUpstream {
            var options = mockOptions
            options.port = 0
            let server = MockLLMServer(options: options)
            mock = try await server.start(logger: quietLogger)
            mockServer = server
            config.upstreams = [UpstreamConfig(name: "mock", baseURL: "http://127.0.0.1:\(mock!.port)/v1")]
        }
        configure(&config)
        let finalConfig = config
        let server = try await BackgroundService.start(logger: quietLogger) { onRunning in
            try await buildApplication(config: finalConfig, logger: quietLogger, onServerRunning: onRunning)
        }
        let parley = TestParley(server: server, mock: mock, mockServer: mockServer,
                                client: HTTPClient(eventLoopGroupProvider: .singleton), directory: directory)
        if signedIn {
            do {
                try await parley.actAsAdmin()
            } catch {
                await parley.stop()
                throw error
            }
        }
        return parley
    }

    /// Runs `body` against a fresh server and always shuts everything down.
    static func with(withUpstream: Bool = true, mockOptions: MockLLMServer.Options = MockLLMServer.Options(),
                     signedIn: Bool = true, configure: (inout ParleyConfig) -> Void = { _ in },
                     _ body: (TestParley) async throws -> Void) async throws {
        let parley = try await start(withUpstream: withUpstream, mockOptions: mockOptions, signedIn: signedIn,
                                     configure: configure)
        do {
            try await body(parley)
        } catch {
            await parley.stop()
            throw error
        }
        await parley.stop()
    }

    func stop() async {
        try? await client.shutdown()
        try? await server.stop()
        try? await mock?.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A client for a Parley started elsewhere (another process).
    final class Client: ParleyAPI {
        let baseURL: String
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let credentials = TestCredentials()
        init(baseURL: String) { self.baseURL = baseURL }
        func shutdown() async throws { try await client.shutdown() }
    }
}

/// Helpers for calling a Parley server's API.
protocol ParleyAPI: Sendable {
    var baseURL: String { get }
    var client: HTTPClient { get }
    /// Sent with every request that does not name these headers itself.
    var credentials: TestCredentials { get }
}

extension ParleyAPI {

    typealias Reply = APIReply

    /// `headers` plus the client's credentials, unless `headers` brings its own (`Authorization` or `Cookie`);
    /// an empty value leaves the header out.
    func withCredentials(_ headers: [String: String]) -> [String: String] {
        let own = Set(headers.keys.map { $0.lowercased() })
        var merged = own.contains("authorization") || own.contains("cookie") ? [:] : credentials.current
        for (name, value) in headers { merged[name] = value }
        return merged.filter { !$0.value.isEmpty }
    }

    func request(_ method: HTTPMethod, _ path: String, body: String? = nil, headers: [String: String] = [:])
        async throws -> Reply
    {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in withCredentials(headers) { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 32 << 20)
        var fields: [String: String] = [:]
        for header in response.headers { fields[header.name.lowercased()] = header.value }
        return Reply(status: Int(response.status.code), headers: fields, body: String(buffer: bytes))
    }

    /// Creates a conversation and returns its id.
    func createConversation(_ body: String = "{}") async throws -> String {
        let reply = try await request(.POST, "/api/v1/conversations", body: body)
        try #require(reply.status == 201, "create conversation: \(reply.status) \(reply.body)")
        return try #require(reply.json["id"] as? String)
    }

    /// Opens an event stream (POST a message, or GET events).
    func events(_ method: HTTPMethod, _ path: String, body: String? = nil, headers: [String: String] = [:])
        async throws -> EventReader
    {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in withCredentials(headers) { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await client.execute(request, timeout: .seconds(60))
        return EventReader(response: response)
    }

    /// Posts a message and reads its whole event stream.
    func chat(_ conversationID: String, _ content: String, model: String? = nil) async throws -> [Event] {
        let modelField = model.map { ",\"model\":\"\($0)\"" } ?? ""
        let reader = try await events(.POST, "/api/v1/conversations/\(conversationID)/messages",
                                      body: "{\"content\":\(quoted(content))\(modelField)}")
        try #require(reader.status == 200, "post message: \(reader.status)")
        return try await reader.rest()
    }

    /// Polls a message until `condition` holds (at most `timeout`), returning its JSON.
    func waitForMessage(_ id: String, timeout: Duration = .seconds(30),
                        until condition: ([String: any Sendable]) -> Bool) async throws -> [String: any Sendable] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let message = try await request(.GET, "/api/v1/messages/\(id)").json
            if condition(message) { return message }
            if ContinuousClock.now > deadline {
                Issue.record("message \(id) did not reach the expected state in time: \(message)")
                return message
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

func quoted(_ text: String) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: text, options: .fragmentsAllowed), as: UTF8.self)
}

/// One parsed server-sent event.
struct Event: Sendable {
    var id: Int?
    var name: String
    var data: [String: any Sendable]
    var rawData: String

    var content: String? { data["content"] as? String }
    var status: String? { data["status"] as? String }
    var message: [String: any Sendable]? { data["message"] as? [String: any Sendable] }
}

/// Reads an event stream as the server writes it; `cancel()` drops the connection like a closed tab.
final class EventReader: Sendable {
    let status: Int
    /// Response headers, names lowercased.
    let headers: [String: String]
    private let stream: AsyncThrowingStream<Event, any Error>
    private let task: Task<Void, Never>
    private let iterator: IteratorBox

    init(response: HTTPClientResponse) {
        status = Int(response.status.code)
        var fields: [String: String] = [:]
        for header in response.headers { fields[header.name.lowercased()] = header.value }
        headers = fields
        let (stream, sink) = AsyncThrowingStream<Event, any Error>.makeStream()
        self.stream = stream
        task = Task {
            var decoder = SSEDecoder()
            do {
                for try await buffer in response.body {
                    for event in try decoder.feed(buffer.readableBytesView) {
                        let data = (try? JSONSerialization.jsonObject(with: Data(event.data.utf8)) as? [String: any Sendable]) ?? [:]
                        sink.yield(Event(id: event.id.flatMap(Int.init), name: event.event ?? "message", data: data,
                                         rawData: event.data))
                    }
                }
                sink.finish()
            } catch {
                sink.finish(throwing: error)
            }
        }
        iterator = IteratorBox(stream.makeAsyncIterator())
    }

    /// The next event, or nil at the end of the stream.
    func next() async throws -> Event? { try await iterator.next() }

    /// Every remaining event.
    func rest() async throws -> [Event] {
        var events: [Event] = []
        while let event = try await next() { events.append(event) }
        return events
    }

    /// Reads until an event matching `predicate` (inclusive) and returns all read.
    func read(until predicate: (Event) -> Bool) async throws -> [Event] {
        var events: [Event] = []
        while let event = try await next() {
            events.append(event)
            if predicate(event) { break }
        }
        return events
    }

    func cancel() { task.cancel() }

    final class IteratorBox: @unchecked Sendable {
        var iterator: AsyncThrowingStream<Event, any Error>.AsyncIterator
        init(_ iterator: AsyncThrowingStream<Event, any Error>.AsyncIterator) { self.iterator = iterator }
        func next() async throws -> Event? { try await iterator.next() }
    }
}

extension [Event] {
    /// The assistant text carried by the delta events.
    var deltaText: String { filter { $0.name == "delta" }.compactMap(\.content).joined() }
}

/// A message as the API returns it.
struct MessageJSON: Decodable, Sendable {
    struct Usage: Decodable, Sendable {
        var prompt_tokens: Int
        var completion_tokens: Int
        var total_tokens: Int
    }
    struct Feedback: Decodable, Sendable {
        var rating: Int
        var comment: String?
    }
    var id: String
    var conversation_id: String
    var index: Int
    var role: String
    var content: String
    var status: String
    var model: String?
    var error: String?
    var usage: Usage?
    var feedback: Feedback?
}

/// A page of messages as the API returns it.
struct MessagePageJSON: Decodable, Sendable {
    var data: [MessageJSON]
    var has_more: Bool
    var next_before: Int?
    var next_after: Int?
}

/// A response as the tests see it.
struct APIReply: Sendable {
    var status: Int
    var headers: [String: String]
    var body: String
    /// The body parsed as a JSON object, or an empty dictionary.
    var json: [String: any Sendable] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: any Sendable]) ?? [:]
    }
    /// The body decoded as `T`.
    func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(body.utf8))
    }
    var errorMessage: String? { (json["error"] as? [String: Any])?["message"] as? String }
    var errorType: String? { (json["error"] as? [String: Any])?["type"] as? String }
}
