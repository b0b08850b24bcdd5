import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ParleyServer
import HTTPTypes
import Testing

/// The application `parley serve` runs, built by `buildApplication` and driven through HummingbirdTesting's
/// router mode: no socket, the same routes, middlewares and services.
@Suite struct RouterModeTests {
    static func application() async throws -> (ParleyApplication, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-router-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var config = ParleyConfig()
        config.databaseURL = "sqlite://\(directory)/parley.db"
        config.shutdownGrace = .milliseconds(100)
        config.passwordHash = .init(logN: 14, r: 8, p: 1)
        return (try await buildApplication(config: config, logger: TestParley.quietLogger), directory)
    }

    @Test func conversationsAreCreatedReadAndRefusedWithoutASocket() async throws {
        let (application, directory) = try await Self.application()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await application.test(.router) { client in
            // The first administrator, then a key for the rest.
            let setup = try await client.execute(uri: "/api/v1/auth/setup", method: .post,
                                                 body: ByteBuffer(string: #"{"email":"a@example.com","password":"\#(TestUsers.password)"}"#))
            #expect(setup.status == .created)
            let cookie = try #require(setup.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let state = try JSONSerialization.jsonObject(with: Data(buffer: setup.body)) as? [String: Any]
            let csrf = try #require(state?["csrf_token"] as? String)
            let keyReply = try await client.execute(uri: "/api/v1/account/keys", method: .post,
                                                    headers: [.cookie: cookie, HTTPField.Name("X-CSRF-Token")!: csrf],
                                                    body: ByteBuffer(string: #"{"name":"router"}"#))
            let key = try #require((try JSONSerialization.jsonObject(with: Data(buffer: keyReply.body)) as? [String: Any])?["key"] as? String)
            let auth: HTTPFields = [.authorization: "Bearer " + key]
            #expect(try await client.execute(uri: "/api/v1/conversations", method: .get).status == .unauthorized)

            let created = try await client.execute(uri: "/api/v1/conversations", method: .post,
                                                   headers: auth + [.contentType: "application/json"],
                                                   body: ByteBuffer(string: #"{"title":"Router mode"}"#))
            #expect(created.status == .created)
            let object = try JSONSerialization.jsonObject(with: Data(buffer: created.body)) as? [String: Any]
            let id = try #require(object?["id"] as? String)

            let read = try await client.execute(uri: "/api/v1/conversations/\(id)", method: .get, headers: auth)
            #expect(read.status == .ok)
            #expect(String(buffer: read.body).contains("Router mode"))

            let trailingComma = try await client.execute(uri: "/api/v1/conversations", method: .post, headers: auth,
                                                         body: ByteBuffer(string: #"{"title":"x",}"#))
            #expect(trailingComma.status == .badRequest)
            #expect(String(buffer: trailingComma.body).contains("invalid_request"))

            let missing = try await client.execute(uri: "/api/v1/conversations/\(UUID().uuidString)", method: .get, headers: auth)
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType]?.hasPrefix("application/json") == true)
        }
    }

    @Test func theGatewayAnswersInOpenAIsShapeWithoutASocket() async throws {
        let (application, directory) = try await Self.application()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await application.test(.router) { client in
            // No API keys and no loopback address (there is no socket): /v1 refuses, as OpenAI would.
            let refused = try await client.execute(uri: "/v1/models", method: .get)
            #expect(refused.status == .unauthorized)
            let error = try JSONSerialization.jsonObject(with: Data(buffer: refused.body)) as? [String: [String: Any]]
            #expect(error?["error"]?["code"] as? String == "invalid_api_key")
            #expect(error?["error"]?["type"] as? String == "invalid_request_error")

            let ready = try await client.execute(uri: "/health/ready", method: .get)
            #expect(ready.status == .ok)
        }
    }
}
