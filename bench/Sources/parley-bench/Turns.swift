// parley-bench turns: drives N concurrent conversations through a release build of Parley in front of
// `parley mock-llm`, and the same load straight at the mock, in one run. Reports persisted turns/s,
// time to first token through Parley vs direct (the difference is what Parley adds), and Parley's RSS.
import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import ParleyMockLLM
import ParleyTestSupport
import ParleyProviders
import Synchronization

struct Turns: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Chat turns through Parley against the same load straight at the mock.")

    @Option(help: "The parley executable (a release build).") var parley = ".build/release/parley"
    @Option(help: "Concurrent conversations (streams).") var concurrency = 64
    @Option(help: "Seconds of load per phase.") var seconds = 10.0
    @Option(help: "Tokens per reply from the mock.") var tokens = 16
    @Option(name: .customLong("turns-per-conversation"),
            help: "Turns before a worker starts a new conversation (history, and so the prompt, grows with each turn).")
    var turnsPerConversation = 10
    @Option(name: .customLong("paced-delay-ms"),
            help: "Token pacing of the second, unsaturated run that measures added time to first token.")
    var pacedDelayMs = 20
    @Option(help: "Where Parley stores: sqlite (a file in the work folder) or postgres (a throwaway PostgreSQL).")
    var backend: Backend = .sqlite
    @Option(help: "Write the Markdown report here as well as to stdout.") var output: String?
    @Option(name: .customLong("keep-data"), help: "Keep the benchmark's database and logs in this folder.")
    var keepData: String?

    func run() async throws {
        let work = keepData ?? FileManager.default.temporaryDirectory.appendingPathComponent("parley-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { if keepData == nil { try? FileManager.default.removeItem(atPath: work) } }

        let mock = try await ChildProcess.start(parley, ["mock-llm", "--port", "0", "--tokens", "\(tokens)"], log: work + "/mock.log")
        defer { mock.stop() }
        let database = try await backend.open(work: work, name: "turns")
        defer { database.close() }
        let server = try await ChildProcess.start(parley, [
            "serve", "--port", "0", "--database", database.url,
            "--openai-base-url", "http://127.0.0.1:\(mock.port)/v1", "--log-level", "warning",
        ], log: work + "/parley.log")
        defer { server.stop() }

        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = concurrency * 2
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)

        let auth = try await BenchAccount.authorization(client: client, base: "http://127.0.0.1:\(server.port)")
        try await Task.sleep(for: .seconds(1))
        let idleRSS = server.rssKB()

        // Warm up both paths so connection set-up is not measured.
        _ = try await Load.direct(client: client, port: mock.port, concurrency: concurrency, seconds: 1)
        _ = try await Load.parley(client: client, port: server.port, auth: auth, concurrency: concurrency,
                                  turnsPerConversation: turnsPerConversation, seconds: 1, sampleRSS: { server.rssKB() })

        let direct = try await Load.direct(client: client, port: mock.port, concurrency: concurrency, seconds: seconds)
        let cpuBefore = server.cpuMilliseconds()
        let through = try await Load.parley(client: client, port: server.port, auth: auth, concurrency: concurrency,
                                            turnsPerConversation: turnsPerConversation, seconds: seconds,
                                            sampleRSS: { server.rssKB() })
        let cpuPerTurn = (server.cpuMilliseconds() - cpuBefore) / Double(max(1, through.completed))
        let persisted = try await Load.persistedMessages(client: client, port: server.port, auth: auth,
                                                         conversations: through.conversations)

        // Unsaturated: paced tokens, so neither side is CPU-bound and the difference is Parley's own latency.
        let pacedDirect = try await Load.direct(client: client, port: mock.port, concurrency: concurrency, seconds: seconds,
                                                delayMs: pacedDelayMs)
        let pacedThrough = try await Load.parley(client: client, port: server.port, auth: auth, concurrency: concurrency,
                                                 turnsPerConversation: turnsPerConversation, seconds: seconds,
                                                 delayMs: pacedDelayMs, sampleRSS: { server.rssKB() })

        let report = Report(backend: backend, concurrency: concurrency, seconds: seconds, tokens: tokens,
                            turnsPerConversation: turnsPerConversation, direct: direct, parley: through,
                            persistedMessages: persisted, idleRSSKB: idleRSS, peakRSSKB: through.peakRSSKB,
                            pacedDelayMs: pacedDelayMs, pacedDirect: pacedDirect, pacedParley: pacedThrough,
                            cpuPerTurnMs: cpuPerTurn)
        try await client.shutdown()
        let text = report.markdown
        print(text)
        if let output { try text.write(toFile: output, atomically: true, encoding: .utf8) }
    }
}

/// Latencies in milliseconds with percentiles.
struct Samples {
    var values: [Double] = []
    func percentile(_ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((p / 100) * Double(sorted.count)))]
    }
}

struct PhaseResult {
    var completed: Int
    var failed: Int
    var elapsed: Double
    var timeToFirstToken: Samples
    var peakRSSKB: Int = 0
    /// Conversations used (Parley phase only).
    var conversations: [String] = []
    var perSecond: Double { Double(completed) / elapsed }
}

enum Load {
    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    /// Streams chat completions straight at the mock; first token = first content delta.
    static func direct(client: HTTPClient, port: Int, concurrency: Int, seconds: Double, delayMs: Int = 0) async throws -> PhaseResult {
        let body = #"{"model":"mock-1","stream":true,"messages":[{"role":"user","content":"Hello, how are you?"}]}"#
        return try await run(concurrency: concurrency, seconds: seconds) { _ in
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "x-mock-delay-ms", value: "\(delayMs)")
            request.body = .bytes(ByteBuffer(string: body))
            return try await stream(client: client, request: request) { event in
                event.data.contains("\"content\":\"") && !event.data.contains("\"content\":\"\"")
            } isEnd: { $0.data == "[DONE]" }
        }
    }

    /// One chat turn per request through Parley; first token = first `delta` event, end = `done`. Each worker
    /// starts a new conversation every `turnsPerConversation` turns.
    static func parley(client: HTTPClient, port: Int, auth: String, concurrency: Int, turnsPerConversation: Int, seconds: Double,
                       delayMs: Int = 0, sampleRSS: @escaping @Sendable () -> Int) async throws -> PhaseResult {
        let content = delayMs > 0 ? "Hello, how are you? mock:delay_ms=\(delayMs)" : "Hello, how are you?"
        let body = "{\"content\":\"\(content)\"}"
        let peak = Mutex(0)
        let sampler = Task {
            while !Task.isCancelled {
                let rss = sampleRSS()
                peak.withLock { $0 = max($0, rss) }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        let state = Mutex<[(conversation: String, turns: Int)?]>(Array(repeating: nil, count: concurrency))
        let used = Mutex<[String]>([])
        var result = try await run(concurrency: concurrency, seconds: seconds) { worker in
            var conversation = state.withLock { $0[worker] }
            if conversation == nil || conversation!.turns >= turnsPerConversation {
                let id = try await createConversation(client: client, port: port, auth: auth)
                used.withLock { $0.append(id) }
                conversation = (id, 0)
            }
            conversation!.turns += 1
            let current = conversation
            state.withLock { $0[worker] = current }
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/conversations/\(current!.conversation)/messages")
            request.method = .POST
            request.headers.add(name: "Authorization", value: auth)
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
            return try await stream(client: client, request: request) { $0.event == "delta" } isEnd: {
                $0.event == "done" || $0.event == "error"
            }
        }
        sampler.cancel()
        result.peakRSSKB = peak.withLock { $0 }
        result.conversations = used.withLock { $0 }
        return result
    }

    /// Runs `turn` in `concurrency` loops for `seconds`; each returns its time to first token or nil on failure.
    static func run(concurrency: Int, seconds: Double,
                    turn: @escaping @Sendable (Int) async throws -> Double?) async throws -> PhaseResult {
        let start = ContinuousClock.now
        let deadline = start + .milliseconds(Int(seconds * 1000))
        let results = try await withThrowingTaskGroup(of: (Int, Int, [Double]).self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var completed = 0, failed = 0
                    var firsts: [Double] = []
                    while ContinuousClock.now < deadline {
                        if let first = try? await turn(worker) {
                            completed += 1
                            firsts.append(first)
                        } else {
                            failed += 1
                        }
                    }
                    return (completed, failed, firsts)
                }
            }
            var total = (0, 0, [Double]())
            for try await (completed, failed, firsts) in group {
                total.0 += completed
                total.1 += failed
                total.2 += firsts
            }
            return total
        }
        return PhaseResult(completed: results.0, failed: results.1, elapsed: milliseconds(ContinuousClock.now - start) / 1000,
                           timeToFirstToken: Samples(values: results.2))
    }

    /// Sends the request, reads the event stream to its end, and returns the ms to the first token event.
    static func stream(client: HTTPClient, request: HTTPClientRequest, isFirst: (ServerSentEvent) -> Bool,
                       isEnd: (ServerSentEvent) -> Bool) async throws -> Double? {
        let started = ContinuousClock.now
        let response = try await client.execute(request, timeout: .seconds(60))
        guard response.status == .ok else { return nil }
        var decoder = SSEDecoder()
        var first: Double?
        var ended = false
        for try await buffer in response.body {
            for event in try decoder.feed(buffer.readableBytesView) {
                if first == nil, isFirst(event) { first = milliseconds(ContinuousClock.now - started) }
                if isEnd(event) {
                    ended = true
                    if event.event == "error" { return nil }
                }
            }
        }
        return ended ? first : nil
    }

    static func createConversation(client: HTTPClient, port: Int, auth: String) async throws -> String {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/conversations")
        request.method = .POST
        request.headers.add(name: "Authorization", value: auth)
        request.body = .bytes(ByteBuffer(string: "{}"))
        let response = try await client.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        struct Created: Decodable { var id: String }
        return try JSONDecoder().decode(Created.self, from: body).id
    }

    /// Counts the messages stored in the conversations, read back through the API.
    static func persistedMessages(client: HTTPClient, port: Int, auth: String, conversations: [String]) async throws -> Int {
        var total = 0
        for id in conversations {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/conversations/\(id)")
            request.headers.add(name: "Authorization", value: auth)
            let response = try await client.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            struct Conversation: Decodable { var message_count: Int }
            total += try JSONDecoder().decode(Conversation.self, from: body).message_count
        }
        return total
    }
}

struct Report {
    var backend: Backend
    var concurrency: Int
    var seconds: Double
    var tokens: Int
    var turnsPerConversation: Int
    var direct: PhaseResult
    var parley: PhaseResult
    var persistedMessages: Int
    var idleRSSKB: Int
    var peakRSSKB: Int
    var pacedDelayMs: Int
    var pacedDirect: PhaseResult
    var pacedParley: PhaseResult
    var cpuPerTurnMs: Double

    var markdown: String {
        func ms(_ value: Double) -> String { String(format: "%.2f ms", value) }
        func mb(_ kb: Int) -> String { String(format: "%.1f MB", Double(kb) / 1024) }
        let added50 = parley.timeToFirstToken.percentile(50) - direct.timeToFirstToken.percentile(50)
        let added99 = parley.timeToFirstToken.percentile(99) - direct.timeToFirstToken.percentile(99)
        return """
            | measure (\(backend.rawValue), \(concurrency) concurrent streams, \(tokens)-token replies, mock at 0 ms pacing, \(Int(seconds)) s per phase, a new conversation every \(turnsPerConversation) turns) | direct to mock | through Parley |
            |---|---|---|
            | completed streams/s | \(String(format: "%.0f", direct.perSecond)) | \(String(format: "%.0f", parley.perSecond)) persisted chat turns/s |
            | failed | \(direct.failed) | \(parley.failed) |
            | time to first token p50 | \(ms(direct.timeToFirstToken.percentile(50))) | \(ms(parley.timeToFirstToken.percentile(50))) |
            | time to first token p99 | \(ms(direct.timeToFirstToken.percentile(99))) | \(ms(parley.timeToFirstToken.percentile(99))) |
            | added time to first token p50 / p99 | | \(ms(added50)) / \(ms(added99)) |
            | throughput ratio (Parley / direct) | | \(String(format: "%.2f", parley.perSecond / direct.perSecond)) |
            | messages read back from the store / expected (2 per turn) | | \(persistedMessages) / \(2 * (parley.completed + parley.failed)) |
            | Parley RSS idle / peak under load | | \(mb(idleRSSKB)) / \(mb(peakRSSKB)) |
            | Parley CPU per turn (user + system) | | \(ms(cpuPerTurnMs)) |

            | unsaturated (\(backend.rawValue)): \(concurrency) concurrent streams, tokens paced \(pacedDelayMs) ms apart | direct to mock | through Parley |
            |---|---|---|
            | completed streams/s | \(String(format: "%.0f", pacedDirect.perSecond)) | \(String(format: "%.0f", pacedParley.perSecond)) |
            | time to first token p50 | \(ms(pacedDirect.timeToFirstToken.percentile(50))) | \(ms(pacedParley.timeToFirstToken.percentile(50))) |
            | time to first token p99 | \(ms(pacedDirect.timeToFirstToken.percentile(99))) | \(ms(pacedParley.timeToFirstToken.percentile(99))) |
            | added time to first token p50 / p99 | | \(ms(pacedParley.timeToFirstToken.percentile(50) - pacedDirect.timeToFirstToken.percentile(50))) / \(ms(pacedParley.timeToFirstToken.percentile(99) - pacedDirect.timeToFirstToken.percentile(99))) |
            | Parley RSS peak | | \(mb(pacedParley.peakRSSKB)) |
            """
    }
}
