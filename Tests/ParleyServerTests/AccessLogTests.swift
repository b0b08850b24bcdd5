import Foundation
import ParleyTestSupport
import Testing

/// The access log of the real `parley serve`: one line per request with the route's pattern, status, time, user
/// and request id; the id echoed in `X-Request-Id` (the client's when sane, a new one otherwise); no key in it.
@Suite struct AccessLogTests {
    @Test func everyRequestIsLoggedOnceWithItsIdAndNoSecrets() async throws {
        let workspace = try BinaryWorkspace("log")
        defer { workspace.remove() }
        let (binary, directory) = (workspace.binary, workspace.directory)
        let log = directory + "/serve.log"
        let server = try await ChildProcess.start(binary, ["serve", "--port", "0", "--database", "sqlite://\(directory)/p.db",
                                                           "--password-hash-cost", "14", "--log-level", "info"],
                                                  log: log, environment: ["PATH": "/usr/bin:/bin"])
        defer { server.stop() }
        let client = TestParley.Client(baseURL: "http://127.0.0.1:\(server.port)")
        try await client.actAsAdmin()
        let key = try #require(client.credentials.current["Authorization"]?.dropFirst("Bearer ".count))
        let me = try await client.request(.GET, "/api/v1/account").json["id"] as? String ?? ""

        let unknown = UUID().uuidString.lowercased()
        let named = try await client.request(.GET, "/api/v1/conversations/\(unknown)?secret=query", headers: ["X-Request-Id": "trace-abc.123"])
        #expect(named.status == 404 && named.headers["x-request-id"] == "trace-abc.123")
        let made = try await client.request(.GET, "/health/live")
        #expect(made.headers["x-request-id"].map { $0.count == 16 && $0.allSatisfy(\.isHexDigit) } == true, "\(made.headers)")
        let odd = try await client.request(.GET, "/health/live", headers: ["X-Request-Id": "two words"])
        #expect(odd.headers["x-request-id"] != "two words" && odd.headers["x-request-id"]?.count == 16, "a forged-looking id is replaced")
        _ = try await client.request(.GET, "/health/live", headers: [
            "X-Request-Id": "traced-1", "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"])
        let refused = try await client.request(.GET, "/api/v1/conversations", headers: ["Authorization": "Bearer pk-notakey", "X-Request-Id": "refused-1"])
        #expect(refused.status == 401)
        try await client.shutdown()

        var text = ""
        for _ in 0..<50 {
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if text.contains("refused-1") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let lines = text.split(separator: "\n").filter { $0.contains("request_id=trace-abc.123") }
        #expect(lines.count == 1, "one line per request: \(lines)")
        let line = String(lines.first ?? "")
        #expect(line.contains("route=/api/v1/conversations/{id}") && line.contains("status=404") && line.contains("method=GET")
                && line.contains("user=\(me)") && line.contains("ms="), "\(line)")
        #expect(!line.contains(unknown) && !line.contains("secret=query"), "the pattern, not the path or query: \(line)")
        #expect(text.contains("request_id=refused-1") && text.split(separator: "\n").contains { $0.contains("refused-1") && $0.contains("status=401") })
        #expect(!text.contains(String(key)) && !text.contains("pk-notakey"), "no key in the log")
        #expect(text.split(separator: "\n").contains { $0.contains("request_id=traced-1") && $0.contains("trace_id=4bf92f3577b34da6a3ce929d0e0e4736") },
                "a client's trace id is on the request's line")
    }

    @Test func jsonLogsAreOneObjectPerLine() async throws {
        let workspace = try BinaryWorkspace("log")
        defer { workspace.remove() }
        let (binary, directory) = (workspace.binary, workspace.directory)
        let log = directory + "/serve.log"
        let server = try await ChildProcess.start(binary, ["serve", "--port", "0", "--database", "sqlite://\(directory)/p.db",
                                                           "--log-format", "json"],
                                                  log: log, environment: ["PATH": "/usr/bin:/bin"])
        defer { server.stop() }
        let client = TestParley.Client(baseURL: "http://127.0.0.1:\(server.port)")
        _ = try await client.request(.GET, "/health/live", headers: ["X-Request-Id": "json-1", "Authorization": ""])
        try await client.shutdown()
        var entries: [[String: Any]] = []
        for _ in 0..<50 {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            // The first line of the file is the listening notice on standard output; the rest must be JSON.
            entries = text.split(separator: "\n").filter { $0.hasPrefix("{") }.compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            if entries.contains(where: { $0["request_id"] as? String == "json-1" }) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
        #expect(lines.filter { !$0.hasPrefix("{") }.allSatisfy { $0.hasPrefix("Parley is listening") }, "only JSON on the log: \(lines)")
        let request = try #require(entries.first { $0["request_id"] as? String == "json-1" }, "\(entries)")
        #expect(request["message"] as? String == "request" && request["route"] as? String == "/health/live"
                && request["status"] as? String == "200" && request["level"] as? String == "info" && request["time"] is String)
    }
}
