import Foundation
import ParleyMockLLM
import ParleyTestSupport
import ParleyServer
import Testing

/// Every setting in ``Setting/all`` given to the real `parley serve` binary the ways a user gives it (flag,
/// environment variable, config file), read back with `--print-config`; and the README's table checked against
/// the table in code.
@Suite struct SettingsCommandLineTests {
    /// A value for each setting and what `--print-config` must show for it (`contains`: part of the line).
    struct Sample {
        var value: String
        var shown: String
        var contains = false
        /// In a config file: the value as JSON (objects and arrays nested, not as strings).
        var fileJSON: String?
    }

    static let configFile = FileManager.default.temporaryDirectory.appendingPathComponent("parley-empty-\(UUID().uuidString).json").path

    static let samples: [String: Sample] = [
        "host": Sample(value: "10.1.2.3", shown: "10.1.2.3"),
        "port": Sample(value: "9123", shown: "9123"),
        "database_url": Sample(value: "postgres://u:hunter2@db.example:5432/parley", shown: "postgres://u:********@db.example:5432/parley"),
        "config": Sample(value: configFile, shown: configFile),
        "allowed_hosts": Sample(value: "chat.example.com", shown: "chat.example.com", contains: true),
        "max_body_bytes": Sample(value: "2048", shown: "2048"),
        "import_max_bytes": Sample(value: "4096", shown: "4096"),
        "signup": Sample(value: "approval", shown: "approval"),
        "session_idle": Sample(value: "3600", shown: "3600"),
        "session_lifetime": Sample(value: "86400", shown: "86400"),
        "password_min_length": Sample(value: "16", shown: "16"),
        "password_hash_cost": Sample(value: "15", shown: "15"),
        "password_hash_threads": Sample(value: "3", shown: "3"),
        "login_rate": Sample(value: "4", shown: "4"),
        "visitor_rate": Sample(value: "7", shown: "7"),
        "secure_cookies": Sample(value: "true", shown: "true"),
        "audit_retention_days": Sample(value: "30", shown: "30"),
        "token_budget": Sample(value: "250000", shown: "250000"),
        "token_budget_period": Sample(value: "month", shown: "month"),
        "usage_retention_days": Sample(value: "90", shown: "90"),
        "trusted_proxies": Sample(value: "10.0.0.0/8,::1", shown: "10.0.0.0/8,::1/128"),
        "trusted_header": Sample(value: "X-Forwarded-Email", shown: "X-Forwarded-Email"),
        "oidc_issuer": Sample(value: "https://id.example.com/realms/team", shown: "https://id.example.com/realms/team"),
        "oidc_client_id": Sample(value: "parley", shown: "parley"),
        "oidc_client_secret": Sample(value: "oidc-secret-value", shown: "********"),
        "oidc_scopes": Sample(value: "openid email", shown: "openid email"),
        "oidc_button": Sample(value: "Sign in with Keycloak", shown: "Sign in with Keycloak"),
        "oidc_redirect_url": Sample(value: "https://chat.example.com/api/v1/auth/oidc/callback",
                                    shown: "https://chat.example.com/api/v1/auth/oidc/callback"),
        "web_dir": Sample(value: "/srv/parley-web", shown: "/srv/parley-web"),
        "log_level": Sample(value: "debug", shown: "debug"),
        "log_format": Sample(value: "json", shown: "json"),
        "metrics": Sample(value: "false", shown: "false"),
        "tasks_on_event_loops": Sample(value: "true", shown: "true"),
        "metrics_token": Sample(value: "metrics-secret-token", shown: "********"),
        "openai_base_url": Sample(value: "http://127.0.0.1:9/v1", shown: "http://127.0.0.1:9/v1"),
        "openai_api_key": Sample(value: "sk-secret-openai", shown: "********"),
        "upstream": Sample(value: "extra=http://127.0.0.1:7/v1", shown: "extra=http://127.0.0.1:7/v1", contains: true),
        "upstreams": Sample(value: #"[{"name":"listed","base_url":"http://127.0.0.1:8/v1"}]"#, shown: "listed=http://127.0.0.1:8/v1",
                            contains: true, fileJSON: #"[{"name":"listed","base_url":"http://127.0.0.1:8/v1"}]"#),
        "anthropic_api_key": Sample(value: "sk-secret-anthropic", shown: "********"),
        "ollama_host": Sample(value: "127.0.0.1:11434", shown: "http://127.0.0.1:11434/v1"),
        "default_model": Sample(value: "llama3", shown: "llama3"),
        "title_model": Sample(value: "off", shown: "off"),
        "model_aliases": Sample(value: #"{"gpt-4o":"llama3"}"#, shown: #"{"gpt-4o":"llama3"}"#, fileJSON: #"{"gpt-4o":"llama3"}"#),
        "fallbacks": Sample(value: #"{"big":["small"]}"#, shown: #"{"big":["small"]}"#, fileJSON: #"{"big":["small"]}"#),
        "api_keys": Sample(value: "key-secret-one,key-secret-two", shown: "********"),
        "connect_timeout": Sample(value: "7", shown: "7"),
        "first_token_timeout": Sample(value: "61", shown: "61"),
        "idle_timeout": Sample(value: "31", shown: "31"),
        "request_timeout": Sample(value: "601", shown: "601"),
        "max_attempts": Sample(value: "4", shown: "4"),
        "max_retry_wait": Sample(value: "2.5", shown: "2.5"),
        "breaker_threshold": Sample(value: "6", shown: "6"),
        "breaker_cooldown": Sample(value: "31", shown: "31"),
        "context_tokens": Sample(value: "4096", shown: "4096"),
        "attachment_max_bytes": Sample(value: "65536", shown: "65536"),
        "vision_models": Sample(value: "llava*, my-vision-model", shown: "llava*,my-vision-model"),
        "max_output_tokens": Sample(value: "512", shown: "512"),
        "max_message_chars": Sample(value: "5000", shown: "5000"),
        "max_generations": Sample(value: "7", shown: "7"),
        "embedding_model": Sample(value: "/opt/models/all-MiniLM-L6-v2", shown: "/opt/models/all-MiniLM-L6-v2"),
        "embedding_threads": Sample(value: "3", shown: "3"),
        "knowledge_embedding_model": Sample(value: "text-embedding-3-small", shown: "text-embedding-3-small"),
        "knowledge_rerank_model": Sample(value: "rerank-english-v3.0", shown: "rerank-english-v3.0"),
        "knowledge_max_document_bytes": Sample(value: "5000000", shown: "5000000"),
        "knowledge_max_documents": Sample(value: "250", shown: "250"),
        "knowledge_ingestion_workers": Sample(value: "3", shown: "3"),
        "knowledge_vector_memory": Sample(value: "268435456", shown: "268435456"),
        "flush_interval_ms": Sample(value: "150", shown: "150"),
        "keepalive_interval": Sample(value: "9", shown: "9"),
        "shutdown_grace": Sample(value: "3", shown: "3"),
        "generation_lease": Sample(value: "4", shown: "4"),
        "database_timeout": Sample(value: "2", shown: "2"),
        "redis_url": Sample(value: "redis://:redispass@127.0.0.1:6390/2", shown: "redis://:********@127.0.0.1:6390/2"),
        "redis_failure": Sample(value: "closed", shown: "closed"),
        "cache": Sample(value: "off", shown: "off"),
        "cache_ttl": Sample(value: "60", shown: "60"),
        "cache_max_entries": Sample(value: "5", shown: "5"),
        "cache_max_bytes": Sample(value: "4096", shown: "4096"),
        "cache_max_entry_bytes": Sample(value: "512", shown: "512"),
        "rate_limit_rpm": Sample(value: "5", shown: "5"),
        "rate_limit_tpm": Sample(value: "1000", shown: "1000"),
        "rate_limit_streams": Sample(value: "2", shown: "2"),
        "model_rpm": Sample(value: "llama3=100,gpt-4o=500", shown: "gpt-4o=500,llama3=100"),
        "model_tpm": Sample(value: "gpt-4o=200000", shown: "gpt-4o=200000"),
    ]

    static let secrets = ["hunter2", "sk-secret-openai", "sk-secret-anthropic", "key-secret-one", "key-secret-two", "redispass"]

    @Test func everySettingHasASample() {
        let missing = Setting.all.map(\.key).filter { Self.samples[$0] == nil }
        #expect(missing.isEmpty, "add a sample for \(missing)")
    }

    @Test func everyFlagArrivesThroughTheRealCommandLine() async throws {
        try Self.writeEmptyConfig()
        var arguments: [String] = []
        var environment: [String: String] = [:]
        for setting in Setting.all {
            let sample = try #require(Self.samples[setting.key])
            if let flag = setting.flag {
                // Half the flags as `--name value`, half as `--name=value`.
                arguments += arguments.count % 3 == 0 ? ["--\(flag)=\(sample.value)"] : ["--\(flag)", sample.value]
            } else if let variable = setting.environment {
                environment[variable] = sample.value
            }
        }
        let shown = try await Self.printConfig(arguments, environment: environment)
        for setting in Setting.all {
            let source = setting.flag.map { "--\($0)" } ?? setting.environment ?? ""
            Self.check(setting, in: shown, source: source)
        }
    }

    @Test func everyEnvironmentVariableArrives() async throws {
        try Self.writeEmptyConfig()
        var environment: [String: String] = [:]
        var arguments: [String] = []
        for setting in Setting.all {
            let sample = try #require(Self.samples[setting.key])
            if let variable = setting.environment { environment[variable] = sample.value }
            else if let flag = setting.flag { arguments += ["--\(flag)", sample.value] }
        }
        // A secret read from a file, as container deployments give it.
        let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("parley-key-\(UUID().uuidString)").path
        try "sk-secret-anthropic\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        environment["ANTHROPIC_API_KEY"] = nil
        environment["ANTHROPIC_API_KEY_FILE"] = keyFile
        let shown = try await Self.printConfig(arguments, environment: environment)
        for setting in Setting.all {
            var source = setting.environment ?? "--\(setting.flag ?? "")"
            if setting.key == "anthropic_api_key" { source += "_FILE" }
            Self.check(setting, in: shown, source: source)
        }
    }

    @Test func everyFileKeyArrivesFromAConfigFile() async throws {
        var object: [String] = []
        var arguments: [String] = []
        for setting in Setting.all {
            let sample = try #require(Self.samples[setting.key])
            if setting.inFile {
                let json = sample.fileJSON ?? "\"\(sample.value)\""
                object.append("\"\(setting.key)\": \(json)")
            } else if let flag = setting.flag, setting.key != "config" {
                arguments += ["--\(flag)", sample.value]
            }
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("parley-settings-\(UUID().uuidString).json").path
        try ("{" + object.joined(separator: ", ") + "}").write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let shown = try await Self.printConfig(arguments + ["--config", path], environment: [:])
        for setting in Setting.all where setting.key != "config" {
            let source = setting.inFile ? "config file" : "--\(setting.flag ?? "")"
            Self.check(setting, in: shown, source: source)
        }
        #expect(shown["config"]?.value == path, "\(String(describing: shown["config"]))")
    }

    @Test func withNothingSetEveryDefaultIsWhatTheTableSays() async throws {
        let shown = try await Self.printConfig([], environment: [:])
        for setting in Setting.all where setting.key != "upstream" {
            let line = try #require(shown[setting.key], "no line for \(setting.key)")
            #expect(line.source == "default", "\(setting.key): \(line)")
            if case .value(let value) = setting.defaultValue {
                #expect(line.value == value, "\(setting.key): the table says \(value), the server uses \(line.value)")
            } else {
                #expect(line.value == "(unset)" || setting.defaultText.contains(line.value)
                        || ["allowed_hosts", "cache"].contains(setting.key), "\(setting.key): \(line)")
            }
        }
    }

    @Test func theUpstreamFlagRepeatsForSeveralUpstreams() async throws {
        let shown = try await Self.printConfig(["--upstream", "one=http://127.0.0.1:7001/v1", "--upstream=two=http://127.0.0.1:7002/v1"],
                                               environment: [:])
        let line = try #require(shown["upstreams"])
        #expect(line.value.contains("one=http://127.0.0.1:7001/v1") && line.value.contains("two=http://127.0.0.1:7002/v1"), "\(line)")
        #expect(line.source == "--upstream")
    }

    @Test func badFlagsAreRefusedWithTheirNameAndUsage() async throws {
        let binary = try Self.binary()
        for (arguments, message) in [(["--cach", "off"], "Unknown option '--cach'; did you mean '--cache'?"),
                                     (["--cache"], "Missing value for '--cache <value>'"),
                                     (["--port", "1", "--port", "2"], "'--port' is given more than once"),
                                     (["stray"], "Unexpected argument 'stray'"),
                                     (["--port", "70000"], "the port must be at most 65535"),
                                     (["--cache-ttl", "soon"], "--cache-ttl must be a number")] {
            let outcome = try await Shell.run(["env", "-i", "PATH=/usr/bin:/bin", binary, "serve", "--print-config"] + arguments)
            #expect(outcome.status == 64, "\(arguments): \(outcome.output)")
            #expect(outcome.output.contains(message), "\(arguments): \(outcome.output)")
        }
        let migrate = try await Shell.run(["env", "-i", "PATH=/usr/bin:/bin", binary, "migrate", "--nope", "1"])
        #expect(migrate.status == 64 && migrate.output.contains("Unknown option '--nope'"), "\(migrate.output)")
    }

    @Test func helpListsEveryFlagAndVariable() async throws {
        let outcome = try await Shell.run([try Self.binary(), "serve", "--help"])
        #expect(outcome.status == 0)
        for setting in Setting.all {
            if let flag = setting.flag { #expect(outcome.output.contains("--\(flag) <value>"), "--\(flag)") }
            if let variable = setting.environment { #expect(outcome.output.contains(variable), "\(variable)") }
        }
        #expect(outcome.output.contains("--print-config"))
    }

    /// The README's configuration table is the one in code. `PARLEY_UPDATE_README=1` rewrites it.
    @Test func theReadmeTableIsTheTableInCode() throws {
        let readmePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md").path
        let readme = try String(contentsOfFile: readmePath, encoding: .utf8)
        let start = "<!-- settings table: made from Setting.all; PARLEY_UPDATE_README=1 swift test --filter SettingsCommandLineTests rewrites it -->\n"
        let end = "<!-- end of settings table -->"
        let startRange = try #require(readme.range(of: start), "the README marks its settings table")
        let endRange = try #require(readme.range(of: end, range: startRange.upperBound..<readme.endIndex))
        let current = String(readme[startRange.upperBound..<endRange.lowerBound])
        let expected = SettingsReport.markdownTable
        if current != expected, ProcessInfo.processInfo.environment["PARLEY_UPDATE_README"] == "1" {
            try readme.replacingCharacters(in: startRange.upperBound..<endRange.lowerBound, with: expected)
                .write(toFile: readmePath, atomically: true, encoding: .utf8)
            return
        }
        #expect(current == expected, "the README's settings table differs from Setting.all; run PARLEY_UPDATE_README=1 swift test --filter SettingsCommandLineTests")
    }

    // MARK: - Running the binary

    struct Line: CustomStringConvertible {
        var value: String
        var source: String
        var description: String { "\(value) (from \(source))" }
    }

    static func binary() throws -> String {
        let binary = CrashRecoveryTests.binary
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the server first (swift build); looked for \(binary)")
        return binary
    }

    static func writeEmptyConfig() throws {
        try "{}".write(toFile: configFile, atomically: true, encoding: .utf8)
    }

    /// `parley serve --print-config` with only these arguments and variables, parsed into lines by key.
    static func printConfig(_ arguments: [String], environment: [String: String]) async throws -> [String: Line] {
        let variables = environment.map { "\($0.key)=\($0.value)" }.sorted()
        let outcome = try await Shell.run(["env", "-i", "PATH=/usr/bin:/bin"] + variables + [try binary(), "serve", "--print-config"] + arguments)
        try #require(outcome.status == 0, "\(outcome.output)")
        for secret in secrets { #expect(!outcome.output.contains(secret), "a secret was shown: \(secret)") }
        var lines: [String: Line] = [:]
        for text in outcome.output.split(separator: "\n") {
            guard let equals = text.range(of: " = "), let from = text.range(of: "  (from ", options: .backwards) else { continue }
            let key = text[..<equals.lowerBound].trimmingCharacters(in: .whitespaces)
            lines[key] = Line(value: String(text[equals.upperBound..<from.lowerBound]), source: String(text[from.upperBound...].dropLast()))
        }
        return lines
    }

    /// The line of `setting` shows its sample, from `source`; the repeatable `--upstream` shows in `upstreams`.
    static func check(_ setting: Setting, in shown: [String: Line], source: String) {
        guard let sample = samples[setting.key] else { return }
        let key = setting.key == "upstream" ? "upstreams" : setting.key
        guard let line = shown[key] else {
            Issue.record("no line for \(key)")
            return
        }
        let matches = sample.contains ? line.value.contains(sample.shown) : line.value == sample.shown
        #expect(matches, "\(setting.key): expected \(sample.shown), shown \(line)")
        #expect(line.source.contains(source), "\(setting.key): expected from \(source), shown \(line)")
    }
}
