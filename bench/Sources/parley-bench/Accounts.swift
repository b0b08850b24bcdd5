import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import ParleyCore
import ParleyTestSupport

/// `parley-bench accounts`: what authentication adds to a request — the same endpoint with no credential and
/// with a user's API key, side by side in one run —, what token budgets add to a model call (a key of a user
/// without a budget against one of a user and key with budgets, both recording usage), and how sign-ins behave
/// under a burst: throughput and the server's peak memory with the real scrypt cost.
struct AccountsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts", abstract: "Authentication cost per request; sign-in throughput and peak memory.")

    @Option(help: "The parley executable (a release build).") var parley = ".build/release/parley"
    @Option(help: "Requests per path in each measure.") var calls = 20_000
    @Option(help: "Rounds each measure is split into, alternating the paths.") var rounds = 4
    @Option(help: "Concurrent clients in the throughput measure.") var concurrency = 16
    @Option(help: "Sign-ins started at once.") var logins = 50
    @Option(help: "scrypt cost (log2 N) of the server.") var hashCost = 17
    @Option(help: "Write the Markdown report here as well as to stdout.") var output: String?

    static let password = "correct horse battery staple"

    func run() async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("parley-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let mock = try await ChildProcess.start(parley, ["mock-llm", "--port", "0", "--tokens", "16"], log: work + "/mock.log")
        defer { mock.stop() }
        let server = try await ChildProcess.start(parley, [
            "serve", "--port", "0", "--database", "sqlite://\(work)/accounts.db", "--log-level", "warning",
            "--password-hash-cost", "\(hashCost)", "--login-rate", "100000",
            "--openai-base-url", "http://127.0.0.1:\(mock.port)/v1",
        ], log: work + "/parley.log")
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(concurrency, logins) * 2
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            try await measureAll(client: client, base: base, server: server)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    func measureAll(client: HTTPClient, base: String, server: ChildProcess) async throws {

        // The administrator, and a key of theirs.
        let setup = try await Self.call(client, .POST, base + "/api/v1/auth/setup",
                                        body: #"{"email":"admin@example.com","password":"\#(Self.password)"}"#)
        let cookie = String(setup.headers.first(name: "set-cookie")?.split(separator: ";").first ?? "")
        let csrf = try Self.field("csrf_token", in: setup.body)
        let made = try await Self.call(client, .POST, base + "/api/v1/account/keys", body: #"{"name":"bench"}"#,
                                       headers: ["Cookie": cookie, "X-CSRF-Token": csrf])
        let key = try Self.field("key", in: made.body)

        var text = try await compare([
            ("GET /v1/models, no credential (loopback)", Target(headers: [:])),
            ("GET /v1/models, a user's API key", Target(headers: ["Authorization": "Bearer " + key])),
        ], client: client, base: base)
        text += "\nAuthentication adds the difference at concurrency 1 (the key's digest and a cached lookup; the database is read at most once a second per key).\n\n"

        // A second user with a budget, and a key of theirs with one too: each call reserves against both and settles.
        let adminHeaders = ["Cookie": cookie, "X-CSRF-Token": csrf]
        let budgeted = try await Self.call(client, .POST, base + "/api/v1/admin/users",
                                           body: #"{"email":"budget@example.com","password":"\#(Self.password)"}"#, headers: adminHeaders)
        let budgetedID = try Self.field("id", in: budgeted.body)
        _ = try await Self.call(client, .PATCH, base + "/api/v1/admin/users/\(budgetedID)",
                                body: #"{"token_budget":1000000000000}"#, headers: adminHeaders)
        let login = try await Self.call(client, .POST, base + "/api/v1/auth/login",
                                        body: #"{"email":"budget@example.com","password":"\#(Self.password)"}"#)
        let budgetCookie = String(login.headers.first(name: "set-cookie")?.split(separator: ";").first ?? "")
        let budgetHeaders = ["Cookie": budgetCookie, "X-CSRF-Token": try Self.field("csrf_token", in: login.body)]
        let budgetKey = try Self.field("key", in: try await Self.call(
            client, .POST, base + "/api/v1/account/keys", body: #"{"name":"bench","token_budget":1000000000000}"#,
            headers: budgetHeaders).body)
        let chat = #"{"model":"mock-1","messages":[{"role":"user","content":"hello"}],"max_tokens":32}"#
        text += try await compare([
            ("POST /v1/chat/completions, a user's key (usage recorded, no budget)",
             Target(method: .POST, path: "/v1/chat/completions", body: chat, headers: ["Authorization": "Bearer " + key])),
            ("POST /v1/chat/completions, a key and user with budgets",
             Target(method: .POST, path: "/v1/chat/completions", body: chat, headers: ["Authorization": "Bearer " + budgetKey])),
        ], client: client, base: base)
        text += "\nBudgets add the difference at concurrency 1 (both allowances charged before the call and settled after it, in memory).\n"

        // A burst of sign-ins with the right password.
        let before = server.rssKB()
        let started = ContinuousClock.now
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<logins {
                group.addTask {
                    try await Self.call(client, .POST, base + "/api/v1/auth/login",
                                        body: #"{"email":"admin@example.com","password":"\#(Self.password)"}"#).status
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        let elapsed = ContinuousClock.now - started
        let ok = statuses.filter { $0 == 200 }.count
        text += String(format: "\n%d sign-ins started at once (scrypt N=2^%d, r=8, p=1: %d MiB each, 2 at a time): %d succeeded in %.2f s, %.1f sign-ins/s; server RSS %d MB before, peak %d MB.\n",
                       logins, hashCost, (128 * 8 * (1 << hashCost)) >> 20, ok, elapsed.secondsValue,
                       Double(ok) / elapsed.secondsValue, before / 1024, server.peakRSSKB() / 1024)
        print(text)
        fflush(nil)
        if let output { try text.write(toFile: output, atomically: true, encoding: .utf8) }
    }

    struct Reply {
        var status: Int
        var headers: HTTPHeaders
        var body: String
    }

    static func call(_ client: HTTPClient, _ method: HTTPMethod, _ url: String, body: String? = nil,
                     headers: [String: String] = [:]) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(120))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
    }

    static func field(_ name: String, in json: String) throws -> String {
        guard let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let value = object[name] as? String else { throw ValidationError("no \(name) in \(json.prefix(200))") }
        return value
    }

    /// One request measured again and again.
    struct Target {
        var method: HTTPMethod = .GET
        var path = "/v1/models"
        var body: String?
        var headers: [String: String]
    }

    /// Two targets side by side: a warm-up; at concurrency 1 their requests interleaved one by one (A B, then
    /// B A), so both see the same moment of a noisy machine, the median of each; at `concurrency`, `rounds`
    /// rounds alternating between them. A Markdown table with the difference of the second from the first.
    func compare(_ targets: [(String, Target)], client: HTTPClient, base: String) async throws -> String {
        for (_, target) in targets { _ = try await Self.measure(client, base, target, calls: 2_000, concurrency: 4) }
        var single: [[Double]] = Array(repeating: [], count: targets.count)
        for call in 0..<calls {
            let order = call.isMultiple(of: 2) ? Array(targets.indices) : targets.indices.reversed()
            for index in order {
                let started = ContinuousClock.now
                _ = try await Self.measure(client, base, targets[index].1, calls: 1, concurrency: 1)
                single[index].append((ContinuousClock.now - started).secondsValue * 1e6)
            }
        }
        var parallel = Array(repeating: Duration.zero, count: targets.count)
        let share = calls / rounds
        for _ in 0..<rounds {
            for (index, (_, target)) in targets.enumerated() {
                parallel[index] += try await Self.measure(client, base, target, calls: share, concurrency: concurrency)
            }
        }
        let medians = single.map { $0.sorted()[$0.count / 2] }
        let total = Double(share * rounds)
        var text = "| path | c=1: median µs/request | c=\(concurrency): requests/s |\n|---|---:|---:|\n"
        for (index, (name, _)) in targets.enumerated() {
            text += String(format: "| %@ | %.1f | %.0f |\n", name, medians[index], total / parallel[index].secondsValue)
        }
        return text + String(format: "| difference | %+.1f µs | %+.1f %% |\n", medians[1] - medians[0],
                             (parallel[0].secondsValue / parallel[1].secondsValue - 1) * 100)
    }

    /// Wall time of `calls` requests spread over `concurrency` loops; every answer must be a 200.
    static func measure(_ client: HTTPClient, _ base: String, _ target: Target, calls: Int,
                        concurrency: Int) async throws -> Duration {
        let measured = try await Measure.run(calls: calls, concurrency: concurrency) { _ in
            let reply = try await call(client, target.method, base + target.path, body: target.body, headers: target.headers)
            guard reply.status == 200 else { throw ValidationError("\(reply.status) \(reply.body.prefix(200))") }
        }
        return measured.elapsed
    }
}
