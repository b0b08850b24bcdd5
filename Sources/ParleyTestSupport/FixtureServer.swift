import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// Serves recorded HTTP answers, for testing a provider against an upstream's exact wire format (Anthropic's
/// event streams): `POST` to any path answers with the next fixture queued for that path, byte for byte.
public final class FixtureServer: Sendable {
    /// One recorded answer.
    public struct Fixture: Sendable {
        public var status: Int
        public var contentType: String
        public var body: String
        public var headers: [String: String]
        public init(status: Int = 200, contentType: String, body: String, headers: [String: String] = [:]) {
            self.status = status
            self.contentType = contentType
            self.body = body
            self.headers = headers
        }
    }

    private let queued = Mutex<[String: [Fixture]]>([:])
    /// The requests received: path, headers (lowercased names; repeated ones joined) and body, in order.
    public let received = Mutex<[(path: String, headers: [String: String], body: String)]>([])

    public init() {}

    /// Queues `fixture` as the next answer on `path`.
    public func enqueue(_ fixture: Fixture, on path: String) {
        queued.withLock { $0[path, default: []].append(fixture) }
    }

    public func start(logger: Logger = Logger(label: "parley.fixtures")) async throws -> BackgroundService {
        try await BackgroundService.start(logger: logger) { onRunning in
            let router = Router()
            router.on("**", method: .post) { request, _ in try await self.answer(request) }
            router.on("**", method: .get) { request, _ in try await self.answer(request) }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "fixtures"),
                        onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) }, logger: logger)
        }
    }

    private func answer(_ request: Request) async throws -> Response {
        let path = request.uri.path
        let body = try await request.body.collect(upTo: 16 << 20)
        var headers: [String: String] = [:]
        // A header sent twice is kept as HTTP folds it: the values joined with ", ".
        for field in request.headers { headers[field.name.canonicalName] = headers[field.name.canonicalName].map { $0 + ", " + field.value } ?? field.value }
        received.withLock { $0.append((path, headers, String(buffer: body))) }
        let fixture = queued.withLock { queue -> Fixture? in
            guard var list = queue[path], !list.isEmpty else { return nil }
            let next = list.removeFirst()
            queue[path] = list
            return next
        }
        guard let fixture else {
            return Response(status: .notFound, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: "{\"error\":{\"message\":\"no fixture queued for \(path)\"}}")))
        }
        var fields: HTTPFields = [.contentType: fixture.contentType]
        for (name, value) in fixture.headers { if let name = HTTPField.Name(name) { fields[name] = value } }
        return Response(status: .init(code: fixture.status), headers: fields,
                        body: .init(byteBuffer: ByteBuffer(string: fixture.body)))
    }
}
