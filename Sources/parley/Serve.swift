import ArgumentParser
import Foundation
import Logging
import ParleyServer
import ServiceLifecycle
import UnixSignals

/// `parley serve`: runs the server until SIGINT or SIGTERM.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Parley server.",
        discussion: """
            Settings come from flags, then environment variables, then a JSON config file (--config or \
            PARLEY_CONFIG, keys in snake_case as in the README), then defaults. Any variable may instead \
            name a file with the _FILE suffix (OPENAI_API_KEY_FILE=/run/secrets/key).

            Settings without a flag:
              OPENAI_API_KEY
                \(Setting.helpText("openai_api_key"))
              PARLEY_UPSTREAMS
                \(Setting.helpText("upstreams"))
              PARLEY_UPSTREAM_<NAME>_API_KEY
                API key of the upstream named NAME.
            """)

    @Option(help: .init(Setting.helpText("host"))) var host: String?
    @Option(help: .init(Setting.helpText("port"))) var port: String?
    @Option(name: .customLong("database"), help: .init(Setting.helpText("database_url"))) var database: String?
    @Option(name: .customLong("openai-base-url"), help: .init(Setting.helpText("openai_base_url"))) var openaiBaseURL: String?
    @Option(name: .customLong("upstream"), help: "An OpenAI-compatible upstream as NAME=URL; repeat for several.")
    var upstreams: [String] = []
    @Option(name: .customLong("default-model"), help: .init(Setting.helpText("default_model"))) var defaultModel: String?
    @Option(name: .customLong("context-tokens"), help: .init(Setting.helpText("context_tokens"))) var contextTokens: String?
    @Option(name: .customLong("max-output-tokens"), help: .init(Setting.helpText("max_output_tokens"))) var maxOutputTokens: String?
    @Option(name: .customLong("max-message-chars"), help: .init(Setting.helpText("max_message_chars"))) var maxMessageChars: String?
    @Option(name: .customLong("max-body-bytes"), help: .init(Setting.helpText("max_body_bytes"))) var maxBodyBytes: String?
    @Option(name: .customLong("connect-timeout"), help: .init(Setting.helpText("connect_timeout"))) var connectTimeout: String?
    @Option(name: .customLong("first-token-timeout"), help: .init(Setting.helpText("first_token_timeout"))) var firstTokenTimeout: String?
    @Option(name: .customLong("idle-timeout"), help: .init(Setting.helpText("idle_timeout"))) var idleTimeout: String?
    @Option(name: .customLong("request-timeout"), help: .init(Setting.helpText("request_timeout"))) var requestTimeout: String?
    @Option(name: .customLong("max-generations"), help: .init(Setting.helpText("max_generations"))) var maxGenerations: String?
    @Option(name: .customLong("flush-interval-ms"), help: .init(Setting.helpText("flush_interval_ms"))) var flushIntervalMs: String?
    @Option(name: .customLong("keepalive-interval"), help: .init(Setting.helpText("keepalive_interval"))) var keepaliveInterval: String?
    @Option(name: .customLong("shutdown-grace"), help: .init(Setting.helpText("shutdown_grace"))) var shutdownGrace: String?
    @Option(name: .customLong("generation-lease"), help: .init(Setting.helpText("generation_lease"))) var generationLease: String?
    @Option(name: .customLong("database-timeout"), help: .init(Setting.helpText("database_timeout"))) var databaseTimeout: String?
    @Option(name: .customLong("allowed-hosts"), help: .init(Setting.helpText("allowed_hosts"))) var allowedHosts: String?
    @Option(name: .customLong("log-level"), help: .init(Setting.helpText("log_level"))) var logLevel: String?
    @Option(help: "A JSON config file. [env: PARLEY_CONFIG]") var config: String?

    var flags: [String: String] {
        let pairs: [(String, String?)] = [
            ("host", host), ("port", port), ("database_url", database), ("openai_base_url", openaiBaseURL),
            ("default_model", defaultModel), ("context_tokens", contextTokens),
            ("max_output_tokens", maxOutputTokens), ("max_message_chars", maxMessageChars),
            ("max_body_bytes", maxBodyBytes), ("connect_timeout", connectTimeout),
            ("first_token_timeout", firstTokenTimeout), ("idle_timeout", idleTimeout),
            ("request_timeout", requestTimeout), ("flush_interval_ms", flushIntervalMs), ("max_generations", maxGenerations),
            ("keepalive_interval", keepaliveInterval), ("shutdown_grace", shutdownGrace),
            ("generation_lease", generationLease), ("database_timeout", databaseTimeout), ("log_level", logLevel), ("allowed_hosts", allowedHosts),
            ("config", config), ("upstream", upstreams.isEmpty ? nil : upstreams.joined(separator: "\n")),
        ]
        return Dictionary(uniqueKeysWithValues: pairs.compactMap { key, value in value.map { (key, $0) } })
    }

    func run() async throws {
        let settings: ParleyConfig
        do {
            settings = try ConfigLoader(flags: flags).load()
        } catch let error as ConfigError {
            throw ValidationError(error.description)
        }
        let level = settings.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "parley")
        let server = try await ParleyServer.build(config: settings, logger: logger) { port in
            // Always shown, whatever the log level, and unbuffered for scripts reading a redirected stdout.
            FileHandle.standardOutput.write(Data("Parley is listening on http://\(settings.host):\(port)\n".utf8))
        }
        let group = ServiceGroup(configuration: .init(
            services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
