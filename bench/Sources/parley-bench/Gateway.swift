import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ParleyMockLLM
import ParleyTestSupport
import ParleyProviders
import Synchronization

/// `parley-bench gateway`: OpenAI-compatible calls straight to the mock vs through Parley's `/v1` (and through
/// LiteLLM's proxy when it is installed), in one run against one mock. Rounds alternate between the paths so
/// that drift in the machine's load falls on both.
struct Gateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Added latency and throughput of the /v1 gateway vs calling the upstream directly.")

    @Option(help: "The parley executable (a release build).") var parley = ".build/release/parley"
    @Option(help: "Seconds of load per path in each measure.") var seconds = 6.0
    @Option(help: "Rounds each measure is split into, alternating the paths.") var rounds = 3
    @Option(help: "Concurrent clients in the throughput measure.") var concurrency = 64
    @Option(help: "Tokens per reply from the mock.") var tokens = 16
    @Option(help: "Also measure a LiteLLM proxy (the `litellm` command) if it is installed: auto, or off.")
    var litellm = "auto"
    @Option(help: "Write the Markdown report here as well as to stdout.") var output: String?

    func run() async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("parley-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }

        let mock = try await ChildProcess.start(parley, ["mock-llm", "--port", "0", "--tokens", "\(tokens)"], log: work + "/mock.log")
        defer { mock.stop() }
        // The bench's key is a service key (`PARLEY_API_KEYS`), as an application behind the gateway has.
        let server = try await ChildProcess.start(parley, [
            "serve", "--port", "0", "--database", "sqlite://\(work)/gateway.db",
            "--openai-base-url", "http://127.0.0.1:\(mock.port)/v1", "--log-level", "warning",
        ], log: work + "/parley.log",
           environment: ProcessInfo.processInfo.environment.merging(["PARLEY_API_KEYS": "sk-bench"]) { $1 })
        defer { server.stop() }
        var targets = [Target(name: "direct", base: "http://127.0.0.1:\(mock.port)/v1", model: "mock-1"),
                       Target(name: "Parley", base: "http://127.0.0.1:\(server.port)/v1", model: "mock-1")]
        var liteLLM: LiteLLMProxy?
        if litellm != "off", let proxy = try await LiteLLMProxy.start(upstream: "http://127.0.0.1:\(mock.port)/v1", log: work + "/litellm.log") {
            liteLLM = proxy
            targets.append(Target(name: "LiteLLM", base: "http://127.0.0.1:\(proxy.port)", model: "mock-1"))
        }
        defer { liteLLM?.stop() }

        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = concurrency * 2
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)

        var report = GatewayReport(targets: targets.map(\.name), tokens: tokens, seconds: seconds, concurrency: concurrency)
        // Warm up every path (connections, caches, JIT-free but lazy paths).
        for target in targets { _ = try await GatewayLoad.run(client: client, target: target, stream: false, concurrency: 4, seconds: 1) }

        let slice = seconds / Double(rounds)
        for _ in 0..<rounds {
            for target in targets {
                report.add("non-stream c=1", target.name,
                           try await GatewayLoad.run(client: client, target: target, stream: false, concurrency: 1, seconds: slice))
                report.add("stream c=1", target.name,
                           try await GatewayLoad.run(client: client, target: target, stream: true, concurrency: 1, seconds: slice))
                report.add("non-stream c=\(concurrency)", target.name,
                           try await GatewayLoad.run(client: client, target: target, stream: false, concurrency: concurrency, seconds: slice))
                report.add("stream c=\(concurrency)", target.name,
                           try await GatewayLoad.run(client: client, target: target, stream: true, concurrency: concurrency, seconds: slice))
            }
        }
        report.parleyRSSKB = server.rssKB()
        report.liteLLMRSSKB = liteLLM?.rssKB()
        try await client.shutdown()
        let text = report.markdown
        print(text)
        fflush(nil)
        if let output { try text.write(toFile: output, atomically: true, encoding: .utf8) }
    }
}

struct Target: Sendable {
    var name: String
    var base: String
    var model: String
}

/// One measure on one path: latencies (whole answer, or first content for streams) and throughput.
struct GatewayResult {
    var completed = 0
    var failed = 0
    var elapsed = 0.0
    var latencies = Samples()
    var perSecond: Double { elapsed > 0 ? Double(completed) / elapsed : 0 }

    mutating func merge(_ other: GatewayResult) {
        completed += other.completed
        failed += other.failed
        elapsed += other.elapsed
        latencies.values += other.latencies.values
    }
}

enum GatewayLoad {
    /// Calls `target` from `concurrency` loops for `seconds`. A non-streamed call's latency is the whole
    /// answer; a streamed call's is its first content chunk (it is still read to `[DONE]`).
    static func run(client: HTTPClient, target: Target, stream: Bool, concurrency: Int, seconds: Double) async throws -> GatewayResult {
        let body = "{\"model\":\"\(target.model)\",\"stream\":\(stream),\"messages\":[{\"role\":\"user\",\"content\":\"Hello, how are you?\"}]}"
        let phase = try await Load.run(concurrency: concurrency, seconds: seconds) { _ in
            try await bounded(by: .seconds(20)) { try await call(client: client, target: target, body: body, stream: stream) }
        }
        return GatewayResult(completed: phase.completed, failed: phase.failed, elapsed: phase.elapsed,
                             latencies: phase.timeToFirstToken)
    }

    /// One call; nil when it failed.
    static func call(client: HTTPClient, target: Target, body: String, stream: Bool) async throws -> Double? {
            var request = HTTPClientRequest(url: target.base + "/chat/completions")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Authorization", value: "Bearer sk-bench")
            request.body = .bytes(ByteBuffer(string: body))
            if stream {
                return try await Load.stream(client: client, request: request) { event in
                    event.data.contains("\"content\":\"") && !event.data.contains("\"content\":\"\"")
                } isEnd: { $0.data == "[DONE]" }
            }
            let started = ContinuousClock.now
            let response = try await client.execute(request, timeout: .seconds(60))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok, bytes.readableBytesView.count > 0 else { return nil }
            return Load.milliseconds(ContinuousClock.now - started)
    }

    /// `operation`'s result, or a failure (nil) once `limit` has passed: a stalled stream ends the call
    /// instead of the whole measure.
    static func bounded(by limit: Duration, _ operation: @escaping @Sendable () async throws -> Double?) async throws -> Double? {
        try await withThrowingTaskGroup(of: Double?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }
}

/// A LiteLLM proxy in front of the mock, when `litellm` is installed.
final class LiteLLMProxy: Sendable {
    let process: Process
    let port: Int

    init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    static func start(upstream: String, log: String) async throws -> LiteLLMProxy? {
        guard let executable = ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":")
            .map({ "\($0)/litellm" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let port = Int.random(in: 20_000..<40_000)
        let config = log + ".yaml"
        try """
            model_list:
              - model_name: mock-1
                litellm_params:
                  model: openai/mock-1
                  api_base: \(upstream)
                  api_key: sk-unused
            litellm_settings:
              drop_params: true
            general_settings:
              master_key: sk-bench
            """.write(toFile: config, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--config", config, "--host", "127.0.0.1", "--port", "\(port)", "--num_workers", "1"]
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let proxy = LiteLLMProxy(process: process, port: port)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        for _ in 0..<240 {
            try await Task.sleep(for: .milliseconds(500))
            if !process.isRunning {
                try await client.shutdown()
                return nil
            }
            if let response = try? await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/health/liveliness"), timeout: .seconds(2)),
               response.status == .ok {
                try await client.shutdown()
                return proxy
            }
        }
        try await client.shutdown()
        proxy.stop()
        return nil
    }

    func rssKB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        return line.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
    }

    /// SIGTERM, then SIGKILL if it is still up after 5 s (the proxy does not always exit on SIGTERM).
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        for _ in 0..<50 where process.isRunning { usleep(100_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

struct GatewayReport {
    var targets: [String]
    var tokens: Int
    var seconds: Double
    var concurrency: Int
    var measures: [String] = []
    var results: [String: [String: GatewayResult]] = [:]
    var parleyRSSKB = 0
    var liteLLMRSSKB: Int?

    mutating func add(_ measure: String, _ target: String, _ result: GatewayResult) {
        FileHandle.standardError.write(Data("\(measure) \(target): \(result.completed) calls, \(result.failed) failed\n".utf8))
        if !measures.contains(measure) { measures.append(measure) }
        results[measure, default: [:]][target, default: GatewayResult()].merge(result)
    }

    var markdown: String {
        func ms(_ value: Double) -> String { String(format: "%.3f", value) }
        var lines: [String] = []
        lines.append("Mock replies of \(tokens) tokens; \(String(format: "%.0f", seconds)) s per path and measure, in alternating rounds.")
        lines.append("Latency: the whole answer for non-streamed calls, the first content chunk for streamed ones (ms).")
        lines.append("")
        var header = "| measure | figure | " + targets.joined(separator: " | ") + " | Parley − direct | Parley / direct |"
        if targets.contains("LiteLLM") { header += " LiteLLM − direct | LiteLLM / direct |" }
        lines.append(header)
        lines.append("|" + String(repeating: "---|", count: header.filter { $0 == "|" }.count - 1))
        for measure in measures {
            guard let row = results[measure], let direct = row["direct"], let parley = row["Parley"] else { continue }
            let concurrent = !measure.hasSuffix("c=1")
            let figures: [(String, (GatewayResult) -> Double, Bool)] = concurrent
                ? [("requests/s", \.perSecond, false), ("p50 ms", { $0.latencies.percentile(50) }, true),
                   ("p99 ms", { $0.latencies.percentile(99) }, true)]
                : [("p50 ms", { $0.latencies.percentile(50) }, true), ("p99 ms", { $0.latencies.percentile(99) }, true),
                   ("requests/s", \.perSecond, false)]
            for (name, value, isLatency) in figures {
                var line = "| \(measure) | \(name) | " + targets.map { row[$0].map { isLatency ? ms(value($0)) : String(format: "%.0f", value($0)) } ?? "–" }.joined(separator: " | ")
                line += " | " + (isLatency ? ms(value(parley) - value(direct)) : "") + " | " + (isLatency ? "" : String(format: "%.2f", value(parley) / value(direct)))
                if let lite = row["LiteLLM"] {
                    line += " | " + (isLatency ? ms(value(lite) - value(direct)) : "") + " | " + (isLatency ? "" : String(format: "%.2f", value(lite) / value(direct)))
                }
                lines.append(line + " |")
            }
        }
        let failures = results.flatMap { measure, row in row.compactMap { $0.value.failed > 0 ? "\(measure) \($0.key): \($0.value.failed)" : nil } }
        lines.append("")
        lines.append("Failed calls: " + (failures.isEmpty ? "none." : failures.sorted().joined(separator: "; ") + "."))
        lines.append("Parley RSS after the run: " + String(format: "%.1f MB", Double(parleyRSSKB) / 1024)
                     + (liteLLMRSSKB.map { String(format: "; LiteLLM proxy: %.1f MB", Double($0) / 1024) } ?? "") + ".")
        return lines.joined(separator: "\n")
    }
}
