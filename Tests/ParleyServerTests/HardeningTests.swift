import Foundation
import ParleyMockLLM
import ParleyTestSupport
import ParleyProviders
import ParleyServer
import Testing

/// The findings of the hostile-input probe (issue 13), each replayed the way the probe sent it: over real
/// sockets, against a real server, which must answer each with a JSON 4xx and stay up.
@Suite struct HardeningTests {
    static func request(_ method: String, _ path: String, port: Int, headers: [String: String] = [:], body: String? = nil,
                        host: String? = nil) -> String {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host ?? "127.0.0.1:\(port)")\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
        return text + "\r\n" + (body ?? "")
    }

    /// The server still answers an ordinary request.
    static func expectAlive(_ parley: TestParley) async throws {
        let reply = try await parley.request(.GET, "/health/live")
        #expect(reply.status == 200, "the server stopped answering")
    }

    @Test func hugeLastEventIDsAreRefusedOrServedNeverATrap() async throws {
        var options = MockLLMServer.Options()
        options.defaults = MockScript(tokens: 400, tokenDelayMs: 20)
        try await TestParley.with(mockOptions: options) { parley in
            let conversation = try await parley.createConversation()
            let finished = try await parley.chat(conversation, "short mock:tokens=3")
            let finishedID = try #require(finished.last?.data["id"] as? String)
            let running = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages", body: #"{"content":"long"}"#)
            let head = try await running.read { $0.name == "delta" }
            let runningID = try #require(head[1].data["id"] as? String)

            for id in [finishedID, runningID] {
                for value in ["9223372036854775807", "9223372036854775806", "-1", "18446744073709551616", "1e3", " 7x"] {
                    let reply = try await parley.request(.GET, "/api/v1/messages/\(id)/events", headers: ["Last-Event-ID": value])
                    #expect(reply.status == 400 && reply.errorMessage?.contains("Last-Event-ID") == true, "\(value): \(reply.body)")
                    let query = try await parley.request(.GET, "/api/v1/messages/\(id)/events?last_event_id=\(value.replacingOccurrences(of: " ", with: "%20"))")
                    #expect(query.status == 400, "\(value): \(query.body)")
                }
            }
            // The largest id a client may name is served: the finished message as a snapshot and its end.
            let last = try await parley.events(.GET, "/api/v1/messages/\(finishedID)/events", headers: ["Last-Event-ID": "2147483647"])
            let events = try await last.rest()
            #expect(events.map(\.name) == ["message", "done"])
            let live = try await parley.events(.GET, "/api/v1/messages/\(runningID)/events", headers: ["Last-Event-ID": "2147483647"])
            _ = try await live.read { $0.name == "delta" }
            live.cancel()
            _ = try await parley.request(.POST, "/api/v1/messages/\(runningID)/stop")
            _ = try await running.rest()
            // The answer that was running when the probes came is stopped, not interrupted by a crash.
            let stored = try await parley.request(.GET, "/api/v1/messages/\(runningID)").json
            #expect(stored["status"] as? String == "cancelled")
            try await Self.expectAlive(parley)
        }
    }

    @Test func malformedHTTPGetsAJSONErrorAndTheConnectionCloses() async throws {
        try await TestParley.with { parley in
            let port = parley.port
            // Signed in, so that what is refused is the framing, not the caller.
            let auth = parley.credentials.current["Authorization"] ?? ""
            let chunked = { (path: String) in
                "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: \(auth)\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
            }
            for (bytes, status, type) in [
                (chunked("/api/v1/conversations"), 400, "malformed_request"),
                (chunked("/v1/chat/completions"), 400, "invalid_request_error"),
                ("FOO / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 501, "method_not_implemented"),
                ("GETT /api/v1/conversations HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 501, "method_not_implemented"),
                ("TRACE / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 405, "method_not_allowed"),
                ("PROPFIND /api/v1/conversations HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 405, "method_not_allowed"),
                ("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n", 400, "malformed_request"),
                ("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + String(repeating: "a", count: 100_000) + "\r\n\r\n", 431, "headers_too_large"),
            ] {
                let reply = try await RawHTTP.exchange(port: port, bytes)
                #expect(reply.closedByServer, "the connection stays open: \(reply)")
                #expect(reply.status == status, "\(bytes.prefix(40)): \(reply)")
                #expect(reply.header("content-type")?.hasPrefix("application/json") == true, "\(reply)")
                #expect(reply.body.contains("\"type\":\"\(type)\"") || reply.body.contains("\"code\":null") && type == "invalid_request_error",
                        "\(reply)")
                #expect(reply.header("x-content-type-options") == "nosniff", "\(reply)")
            }
            // CONNECT cannot carry a body (NIO leaves its framing out), so the answer ends by closing.
            let connect = try await RawHTTP.exchange(port: port, "CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            #expect(connect.closedByServer && connect.status == 501, "\(connect)")
            // Nothing was created by any of it.
            let list = try await parley.request(.GET, "/api/v1/conversations").json
            #expect((list["data"] as? [Any])?.isEmpty == true)
            try await Self.expectAlive(parley)
        }
    }

    @Test func anOversizeContentLengthIsRefusedBeforeTheBodyArrives() async throws {
        try await TestParley.with { parley in
            for path in ["/api/v1/conversations", "/v1/chat/completions"] {
                // Only the head and one byte are sent: the answer must not wait for the rest.
                let bytes = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n{"
                let started = ContinuousClock.now
                let reply = try await RawHTTP.exchange(port: parley.port, bytes, wait: .seconds(20))
                #expect(reply.status == 413 && reply.closedByServer, "\(path): \(reply)")
                #expect(ContinuousClock.now - started < .seconds(20))
                #expect(reply.body.contains("larger than"), "\(reply)")
            }
            try await Self.expectAlive(parley)
        }
    }

    @Test func lenientJSONIsRefusedOnBothAPIs() async throws {
        try await TestParley.with { parley in
            let conversation = try await parley.createConversation()
            let deep = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
            let bodies: [(String, String)] = [
                (#"{"content":"x",}"#, "not valid JSON"),
                (#"{"content":"x","n":1,"n":2}"#, "'n' twice"),
                ("\u{FEFF}{\"content\":\"x\"}", "byte-order mark"),
                (#"{"content":"x"} // note"#, "not valid JSON"),
                (#"{"content":"x","n":01}"#, "not valid JSON"),
                (#"{"content":"x","n":1.}"#, "not valid JSON"),
                (#"{"content":"x","n":NaN}"#, "not valid JSON"),
                (#"{'content':'x'}"#, "not valid JSON"),
                ("{\"content\":\"x\",\"a\":" + deep + "}", "nested more than"),
            ]
            for (body, message) in bodies {
                for path in ["/api/v1/conversations/\(conversation)/messages", "/v1/chat/completions"] {
                    let sent = path.hasPrefix("/v1")
                        ? body.replacingOccurrences(of: #"{"content":"x""#, with: #"{"model":"mock-1","messages":[{"role":"user","content":"x"}]"#)
                        : body
                    let reply = try await parley.request(.POST, path, body: sent)
                    #expect(reply.status == 400, "\(path) \(body.prefix(40)): \(reply.body.prefix(300))")
                    #expect(reply.errorMessage?.contains(message) == true, "\(path) \(body.prefix(40)): \(reply.body.prefix(300))")
                }
            }
            // UTF-16 and invalid UTF-8 bytes, sent raw.
            var utf16: [UInt8] = [0xFF, 0xFE]
            for unit in "{\"content\":\"x\"}".utf16 { utf16 += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
            let badUTF8: [UInt8] = Array("{\"content\":\"".utf8) + [0xC3, 0x28] + Array("\"}".utf8)
            for bytes in [utf16, badUTF8] {
                let auth = parley.credentials.current["Authorization"] ?? ""
                let head = "POST /api/v1/conversations/\(conversation)/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: \(auth)\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: \(bytes.count)\r\n\r\n"
                let reply = try await RawHTTP.exchange(port: parley.port, bytes: Array(head.utf8) + bytes)
                #expect(reply.status == 400, "\(reply)")
            }
            let page = try await parley.request(.GET, "/api/v1/conversations/\(conversation)/messages").json
            #expect((page["data"] as? [Any])?.isEmpty == true, "nothing was stored from a refused body")
            try await Self.expectAlive(parley)
        }
    }

    @Test func crossSiteWritesAndForeignHostNamesAreRefused() async throws {
        try await TestParley.with { parley in
            let port = parley.port
            let auth = parley.credentials.current
            // A page on another site posting a "simple" request (no preflight) through a visitor's browser.
            for headers in [["Origin": "https://evil.example", "Content-Type": "text/plain"],
                            ["Origin": "null", "Content-Type": "text/plain"],
                            ["Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"],
                            ["Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:1"]] {
                let reply = try await RawHTTP.exchange(port: port, Self.request("POST", "/api/v1/conversations", port: port,
                                                                                  headers: headers.merging(["Connection": "close"]) { a, _ in a },
                                                                                  body: "{}"))
                #expect(reply.status == 403 && reply.body.contains("cross_site_request"), "\(headers): \(reply)")
            }
            let gateway = try await RawHTTP.exchange(port: port, Self.request(
                "POST", "/v1/chat/completions", port: port, headers: ["Origin": "https://evil.example", "Connection": "close"],
                body: #"{"model":"mock","messages":[{"role":"user","content":"x"}]}"#))
            #expect(gateway.status == 403 && gateway.body.contains("\"code\":\"cross_site_request\""), "\(gateway)")
            let list = try await parley.request(.GET, "/api/v1/conversations").json
            #expect((list["data"] as? [Any])?.isEmpty == true, "no cross-site request created anything")

            // The UI's own requests, the same origin, and clients that are not browsers go through.
            for headers in [["Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1:\(port)"],
                            ["Origin": "http://127.0.0.1:\(port)"], ["Sec-Fetch-Site": "none"], [:],
                            ["Origin": "https://evil.example"].merging(auth) { a, _ in a }] {
                let reply = try await parley.request(.POST, "/api/v1/conversations", body: "{}", headers: headers)
                #expect(reply.status == 201, "\(headers): \(reply.body)")
            }
            // Reading is not a state change; a foreign host name is refused for reads too (DNS rebinding).
            for host in ["evil.example", "evil.example:\(port)", "127.0.0.1.evil.example"] {
                let reply = try await RawHTTP.exchange(port: port, Self.request("GET", "/api/v1/conversations", port: port,
                                                                                 headers: ["Connection": "close"], host: host))
                #expect(reply.status == 403 && reply.body.contains("host_not_allowed"), "\(host): \(reply)")
            }
            for host in ["localhost:\(port)", "LOCALHOST.", "127.0.0.1", "[::1]:\(port)", "10.1.2.3"] {
                let reply = try await RawHTTP.exchange(port: port, Self.request("GET", "/api/v1/conversations", port: port,
                                                                                 headers: auth.merging(["Connection": "close"]) { a, _ in a },
                                                                                 host: host))
                #expect(reply.status == 200, "\(host): \(reply)")
            }
        }
        try await TestParley.with(configure: { $0.allowedHosts = AllowedHosts(names: ["chat.example.com"]) }) { parley in
            let named = try await RawHTTP.exchange(port: parley.port, Self.request(
                "GET", "/api/v1/conversations", port: parley.port,
                headers: parley.credentials.current.merging(["Connection": "close"]) { a, _ in a }, host: "chat.example.com"))
            #expect(named.status == 200, "\(named)")
            let other = try await RawHTTP.exchange(port: parley.port, Self.request(
                "GET", "/", port: parley.port, headers: ["Connection": "close"], host: "other.example.com"))
            #expect(other.status == 403, "\(other)")
        }
    }

    @Test func everyResponseSaysNoSniff() async throws {
        try await TestParley.with { parley in
            let conversation = try await parley.createConversation()
            for (method, path) in [("GET", "/api/v1/conversations"), ("GET", "/api/v1/conversations/\(conversation)"),
                                   ("GET", "/api/v1/nothing"), ("GET", "/v1/models"), ("GET", "/v1/nothing"),
                                   ("GET", "/health/ready"), ("GET", "/")] {
                let reply = try await parley.request(.init(rawValue: method), path)
                #expect(reply.headers["x-content-type-options"] == "nosniff", "\(method) \(path)")
            }
            let stream = try await parley.events(.POST, "/api/v1/conversations/\(conversation)/messages", body: #"{"content":"hi"}"#)
            #expect(stream.headers["x-content-type-options"] == "nosniff")
            _ = try await stream.rest()
        }
    }

    @Test func hostileUpstreamNumbersAndCacheHeadersCannotTrap() async throws {
        let fixtures = FixtureServer()
        let upstream = try await fixtures.start(logger: TestParley.quietLogger)
        let error = #"{"error":{"message":"slow down","type":"rate_limit_error"}}"#
        for retryAfter in ["1e300", "inf", "nan", "-5", "99999999999999999999"] {
            fixtures.enqueue(.init(status: 429, contentType: "application/json", body: error, headers: ["Retry-After": retryAfter]),
                             on: "/v1/chat/completions")
        }
        let huge = #"{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807}}"#
        fixtures.enqueue(.init(contentType: "application/json", body: huge), on: "/v1/chat/completions")
        do {
            try await TestParley.with(withUpstream: false, configure: {
                $0.upstreams = [UpstreamConfig(name: "fixed", baseURL: "http://127.0.0.1:\(upstream.port)/v1", models: ["m"])]
                $0.router.maxAttempts = 1
                $0.rateLimits.tokensPerMinute = 1_000_000
            }) { parley in
                let body = #"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#
                for _ in 0..<5 {
                    let reply = try await parley.request(.POST, "/v1/chat/completions", body: body)
                    #expect(reply.status == 429, "\(reply.body)")
                }
                let counted = try await parley.request(.POST, "/v1/chat/completions", body: body)
                #expect(counted.status == 200, "\(counted.body)")
                for control in ["=", "ttl=", "ttl=inf", "ttl=nan", "ttl=1e400", ",=,", "=5"] {
                    let reply = try await parley.request(.POST, "/v1/chat/completions", body: body,
                                                         headers: ["x-parley-cache-control": control])
                    #expect(reply.status == 400, "\(control): \(reply.body)")
                }
                for timeout in ["inf", "nan", "1e400", "-1", "0x10"] {
                    let reply = try await parley.request(.POST, "/v1/chat/completions", body: body, headers: ["x-parley-timeout": timeout])
                    #expect(reply.status == 400, "\(timeout): \(reply.body)")
                }
                try await Self.expectAlive(parley)
            }
        } catch {
            try await upstream.stop()
            throw error
        }
        try await upstream.stop()
    }
}

/// `--allowed-hosts` and `PARLEY_ALLOWED_HOSTS` through the real `parley serve` command line.
@Suite struct AllowedHostsCommandLineTests {
    @Test(arguments: [(["--allowed-hosts", "chat.example.com, Other.Example."], [String: String]()),
                      ([], ["PARLEY_ALLOWED_HOSTS": "chat.example.com,other.example"])])
    func theRealCommandLineSetsTheHostNames(flags: [String], environment: [String: String]) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashRecoveryTests.binary),
                     "build the server first (swift build); looked for \(CrashRecoveryTests.binary)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-hosts-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = try await ChildProcess.start(
            CrashRecoveryTests.binary, ["serve", "--port", "0", "--database", "sqlite://\(directory)/parley.db"] + flags,
            log: directory + "/serve.log", environment: environment.merging(["PATH": "/usr/bin:/bin"]) { a, _ in a })
        defer { process.stop() }
        for (host, status) in [("chat.example.com", 200), ("other.example:80", 200), ("evil.example", 403), ("localhost", 200)] {
            let reply = try await RawHTTP.exchange(port: process.port, HardeningTests.request(
                "GET", "/api/v1/auth/session", port: process.port, headers: ["Connection": "close"], host: host))
            #expect(reply.status == status, "\(host): \(reply)")
        }
    }
}
