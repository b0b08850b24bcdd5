import Foundation
import ParleyServer
import Testing

@Suite struct ConfigLoaderTests {
    func file(_ json: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("parley-config-\(UUID().uuidString).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func defaultsWithNothingSet() throws {
        let config = try ConfigLoader(flags: [:], environment: [:]).load()
        #expect(config.host == "127.0.0.1" && config.port == 8080)
        #expect(try config.sqlitePath() == "parley.db")
        #expect(config.upstreams.isEmpty)
        #expect(config.flushInterval == .milliseconds(200))
    }

    @Test func flagsBeatEnvironmentBeatFile() throws {
        let path = try file(#"{"port": 7000, "host": "0.0.0.0", "context_tokens": 1000, "database_url": "sqlite:///tmp/file.db"}"#)
        let environment = ["PARLEY_CONFIG": path, "PARLEY_PORT": "7100", "PARLEY_CONTEXT_TOKENS": "2000"]
        let config = try ConfigLoader(flags: ["port": "7200"], environment: environment).load()
        #expect(config.port == 7200)
        #expect(config.limits.contextTokenBudget == 2000)
        #expect(config.host == "0.0.0.0")
        #expect(try config.sqlitePath() == "/tmp/file.db")
    }

    @Test func cacheRedisAndLimitSettings() throws {
        let plain = try ConfigLoader(environment: [:]).load()
        #expect(plain.cache.backend == .memory && plain.redisURL == nil && !plain.rateLimits.isEnabled)
        let config = try ConfigLoader(environment: [
            "PARLEY_REDIS_URL": "redis://:pw@cache:6380/2", "PARLEY_REDIS_FAILURE": "closed", "PARLEY_CACHE_TTL": "90",
            "PARLEY_RATE_LIMIT_RPM": "60", "PARLEY_RATE_LIMIT_TPM": "90000", "PARLEY_RATE_LIMIT_STREAMS": "4",
            "PARLEY_MODEL_RPM": "gpt-4o=500, llama3=100", "PARLEY_MODEL_TPM": "gpt-4o=200000",
        ]).load()
        #expect(config.cache.backend == .redis, "Redis caches by default once it is configured")
        #expect(config.redisFailure == .closed && config.cache.ttl == .seconds(90))
        #expect(config.rateLimits.requestsPerMinute == 60 && config.rateLimits.tokensPerMinute == 90000)
        #expect(config.rateLimits.concurrentStreams == 4)
        #expect(config.rateLimits.modelRequestsPerMinute == ["gpt-4o": 500, "llama3": 100])
        #expect(config.rateLimits.modelTokensPerMinute == ["gpt-4o": 200000])
        #expect(try ConfigLoader(environment: ["PARLEY_REDIS_URL": "redis://x", "PARLEY_CACHE": "memory"]).load().cache.backend == .memory)
        for bad in [["PARLEY_CACHE": "redis"], ["PARLEY_CACHE": "disk"], ["PARLEY_REDIS_URL": "http://x"],
                    ["PARLEY_REDIS_FAILURE": "maybe"], ["PARLEY_RATE_LIMIT_RPM": "0"], ["PARLEY_MODEL_RPM": "gpt-4o"],
                    ["PARLEY_MODEL_TPM": "a=-1"]] {
            #expect(throws: ConfigError.self, "\(bad)") { try ConfigLoader(environment: bad).load() }
        }
    }

    @Test func databaseURLsNameTheirBackend() throws {
        let postgres = try ConfigLoader(environment: ["PARLEY_DATABASE_URL": "postgres://u:p@db:5432/parley"]).load()
        #expect(try postgres.database() == .postgres(url: "postgres://u:p@db:5432/parley"))
        let sqlite = try ConfigLoader(environment: ["PARLEY_DATABASE_URL": "sqlite:///var/lib/parley.db"]).load()
        #expect(try sqlite.database() == .sqlite(path: "/var/lib/parley.db"))
    }

    @Test func openAIVariablesMakeAnUpstreamAndSecretsComeFromFiles() throws {
        let keyFile = try file("sk-from-file\n")
        let config = try ConfigLoader(environment: [
            "OPENAI_BASE_URL": "http://127.0.0.1:9100/v1", "OPENAI_API_KEY_FILE": keyFile,
        ]).load()
        #expect(config.upstreams.count == 1)
        #expect(config.upstreams[0].baseURL == "http://127.0.0.1:9100/v1")
        #expect(config.upstreams[0].apiKey == "sk-from-file")
        #expect(!config.upstreams[0].description.contains("sk-from-file"), "keys are never printed")

        let openAI = try ConfigLoader(environment: ["OPENAI_API_KEY": "sk-1"]).load()
        #expect(openAI.upstreams.first?.baseURL == "https://api.openai.com/v1")
    }

    @Test func severalUpstreams() throws {
        let json = #"[{"name":"local","base_url":"http://127.0.0.1:11434/v1","models":["llama3"]},{"name":"vllm","base_url":"http://10.0.0.1:8000/v1","api_key_env":"VLLM_KEY"}]"#
        let config = try ConfigLoader(flags: ["upstream": "extra=http://127.0.0.1:1234/v1"], environment: [
            "PARLEY_UPSTREAMS": json, "VLLM_KEY": "k2", "PARLEY_UPSTREAM_EXTRA_API_KEY": "k3",
        ]).load()
        #expect(config.upstreams.map(\.name) == ["local", "vllm", "extra"])
        #expect(config.upstreams[0].models == ["llama3"])
        #expect(config.upstreams[1].apiKey == "k2" && config.upstreams[2].apiKey == "k3")
    }

    @Test func providersKeysAliasesAndRouterSettings() throws {
        let json = #"[{"name":"claude","provider":"anthropic","api_key_env":"CLAUDE_KEY","models":[{"name":"smart","model":"claude-sonnet-4-5"},"claude-haiku-4-5"]}]"#
        let config = try ConfigLoader(flags: ["max_attempts": "4"], environment: [
            "PARLEY_UPSTREAMS": json, "CLAUDE_KEY": "sk-ant-1", "ANTHROPIC_API_KEY": "sk-ant-2", "OLLAMA_HOST": "127.0.0.1:11434",
            "PARLEY_API_KEYS": " sk-a , sk-b,", "PARLEY_MODEL_ALIASES": #"{"gpt-4o":"smart"}"#,
            "PARLEY_FALLBACKS": #"{"smart":["claude-haiku-4-5","llama3.1"]}"#, "PARLEY_BREAKER_COOLDOWN": "2.5",
            "PARLEY_MAX_RETRY_WAIT": "0",
        ]).load()
        #expect(config.upstreams.map(\.name) == ["claude", "anthropic", "ollama"])
        #expect(config.upstreams.map(\.kind) == [.anthropic, .anthropic, .ollama])
        #expect(config.upstreams[0].baseURL == "https://api.anthropic.com" && config.upstreams[0].apiKey == "sk-ant-1")
        #expect(config.upstreams[0].models == ["smart", "claude-haiku-4-5"])
        #expect(config.upstreams[0].upstreamNames == ["smart": "claude-sonnet-4-5"])
        #expect(config.upstreams[1].apiKey == "sk-ant-2" && config.upstreams[1].models == nil)
        #expect(config.upstreams[2].baseURL == "http://127.0.0.1:11434/v1")
        #expect(config.apiKeys == ["sk-a", "sk-b"])
        #expect(config.router.aliases == ["gpt-4o": "smart"])
        #expect(config.router.fallbacks == ["smart": ["claude-haiku-4-5", "llama3.1"]])
        #expect(config.router.maxAttempts == 4 && config.router.breakerCooldown == .milliseconds(2500))
        #expect(config.router.maxRetryWait == .zero)
        #expect(!config.upstreams.map(\.description).joined().contains("sk-ant"), "keys are never printed")
    }

    @Test(arguments: [
        (["PARLEY_UPSTREAMS": #"[{"name":"x","provider":"bard","base_url":"http://h/v1"}]"#], "provider 'bard'"),
        (["PARLEY_UPSTREAMS": #"[{"name":"x"}]"#], "base_url"),
        (["PARLEY_MODEL_ALIASES": "[1]"], "PARLEY_MODEL_ALIASES"),
        (["PARLEY_FALLBACKS": #"{"a":"b"}"#], "PARLEY_FALLBACKS"),
        (["PARLEY_MAX_ATTEMPTS": "0"], "PARLEY_MAX_ATTEMPTS"),
        (["PARLEY_PORT": "http"], "PARLEY_PORT"),
        (["PARLEY_PORT": "70000"], "65535"),
        (["PARLEY_LOG_LEVEL": "loud"], "PARLEY_LOG_LEVEL"),
        (["PARLEY_IDLE_TIMEOUT": "-1"], "PARLEY_IDLE_TIMEOUT"),
        (["OPENAI_BASE_URL": "not a url"], "OPENAI_BASE_URL"),
        (["PARLEY_UPSTREAMS": "{"], "PARLEY_UPSTREAMS"),
        (["PARLEY_CONFIG": "/nonexistent/parley.json"], "cannot read"),
        (["PARLEY_DATABASE_URL": "mysql://x"], "not supported"),
    ])
    func badSettingsNameTheProblem(environment: [String: String], mention: String) throws {
        do {
            let config = try ConfigLoader(environment: environment).load()
            _ = try config.sqlitePath()
            Issue.record("expected an error for \(environment)")
        } catch let error as ConfigError {
            #expect(error.description.contains(mention), "\(error)")
        }
    }

    @Test func unknownFileKeysAreRejected() throws {
        let path = try file(#"{"prot": 1}"#)
        #expect(throws: ConfigError.self) { try ConfigLoader(flags: ["config": path], environment: [:]).load() }
    }
}
