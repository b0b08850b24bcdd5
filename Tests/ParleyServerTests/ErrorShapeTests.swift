import Foundation
import Testing

/// One error path: the same causes answer in Parley's shape under `/api` and in OpenAI's under `/v1`, the
/// framework's own errors (no such route; a method a path does not have is also "no such route") included.
@Suite struct ErrorShapeTests {
    @Test func theFrameworksOwnErrorsTakeEachAPIsShape() async throws {
        try await TestParley.with { parley in
            for (method, path, status) in [("GET", "/v1/no-such-endpoint", 404), ("DELETE", "/v1/models", 404),
                                           ("GET", "/api/v1/no-such-endpoint", 404), ("DELETE", "/api/v1/search", 404)] {
                let reply = try await parley.request(.init(rawValue: method), path)
                #expect(reply.status == status, "\(method) \(path): \(reply.body)")
                let error = try #require(reply.json["error"] as? [String: Any], "\(method) \(path): \(reply.body)")
                #expect(error["message"] is String)
                if path.hasPrefix("/v1") {
                    // OpenAI's shape: its SDKs read type, param and code.
                    #expect(error["type"] as? String == "invalid_request_error", "\(reply.body)")
                    #expect(error.keys.contains("param") && error.keys.contains("code"), "\(reply.body)")
                    #expect(reply.headers["content-type"] == "application/json")
                } else {
                    #expect(error["type"] as? String == "not_found", "\(reply.body)")
                    #expect(!error.keys.contains("param"), "\(reply.body)")
                    #expect(reply.headers["cache-control"] == "no-store")
                }
            }
        }
    }
}
