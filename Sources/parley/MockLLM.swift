import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ParleyMockLLM

/// `parley mock-llm`: an OpenAI-compatible mock model server.
struct MockLLM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-llm",
        abstract: "Run an OpenAI-compatible mock model server (for tests, benchmarks and trying Parley).",
        discussion: """
            Per request, words like mock:tokens=50 mock:delay_ms=20 mock:ttft_ms=500 mock:fault=cut in the last \
            user message (or x-mock-tokens: 50 style headers) override the defaults. Faults: 500, 429 (with \
            mock:retry_after=N), 400, cut (drop the connection half-way), slow (first token after 30 s), hang \
            (one token, then silence), garbage (an event that is not JSON). GET /mock/stats counts requests.
            """)

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 9100
    @Option(help: "Tokens per reply.") var tokens = 20
    @Option(name: .customLong("delay-ms"), help: "Milliseconds between tokens.") var delayMs = 0
    @Option(name: .customLong("ttft-ms"), help: "Milliseconds before the first token.") var ttftMs = 0
    @Option(help: "Comma-separated model names to list.") var models = "mock-1,mock-2"
    @Option(name: .customLong("api-key"), help: "Require this bearer token.") var apiKey: String?
    @Option(name: .customLong("log-level"), help: "Log level.") var logLevel = "warning"

    func run() async throws {
        var options = MockLLMServer.Options()
        options.host = host
        options.port = port
        options.models = models.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        options.defaults = MockScript(tokens: tokens, tokenDelayMs: delayMs, firstTokenDelayMs: ttftMs)
        options.apiKey = apiKey
        var logger = Logger(label: "parley.mock-llm")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        let host = options.host
        let app = MockLLMServer(options: options).application(logger: logger) { port in
            // Unbuffered, so scripts reading a redirected stdout see the port at once.
            FileHandle.standardOutput.write(Data("parley mock-llm listening on http://\(host):\(port)/v1\n".utf8))
        }
        try await app.runService()
    }
}
