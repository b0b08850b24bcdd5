import Foundation
import Logging
import ParleyAccounts
import ParleyCore
import ParleyGateway
import ParleyProviders
import ParleyRedis
import ParleyRetrieval

/// Builds a ``ParleyConfig`` from, in order of precedence: flags, environment variables, a JSON config file
/// (`--config` or `PARLEY_CONFIG`), and defaults. Any secret `X` may instead be read from the file named by
/// `X_FILE`, as container deployments expect.
public struct ConfigLoader: Sendable {
    public var flags: [String: String]
    public var environment: [String: String]

    public init(flags: [String: String] = [:], environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.flags = flags
        self.environment = environment
    }

    /// Where a setting's value is found, in order of precedence, with the value.
    enum Origin {
        case flag(String, value: String)
        case variable(String, value: String)
        /// A variable naming a file that holds the value (`X_FILE`).
        case variableFile(String, path: String)
        case configFile(key: String, value: String)

        /// How messages about a bad value name it.
        var name: String {
            switch self {
            case .flag(let flag, _): "--\(flag)"
            case .variable(let variable, _): variable
            case .variableFile(let variable, _): variable
            case .configFile(let key, _): "config file key '\(key)'"
            }
        }

        /// How `--print-config` names it.
        var label: String {
            if case .configFile = self { return "config file" }
            return name
        }
    }

    /// The one lookup every setting goes through: flag, variable, `_FILE` variable, config file.
    func origin(of setting: Setting, file: [String: String]) -> Origin? {
        if let flag = setting.flag, let raw = flags[setting.key] { return .flag(flag, value: raw) }
        if let variable = setting.environment {
            if let raw = environment[variable], !raw.isEmpty { return .variable(variable, value: raw) }
            if let path = environment[variable + "_FILE"], !path.isEmpty { return .variableFile(variable + "_FILE", path: path) }
        }
        if setting.inFile, let raw = file[setting.key] { return .configFile(key: setting.key, value: raw) }
        return nil
    }

    /// Where each set setting's value comes from (`--flag`, `VARIABLE`, `VARIABLE_FILE`, `config file`), by key;
    /// the config file is read once.
    public func sources() throws -> [String: String] {
        let file = try loadFile()
        var sources: [String: String] = [:]
        for setting in Setting.all { sources[setting.key] = origin(of: setting, file: file)?.label }
        return sources
    }

    public func load() throws -> ParleyConfig {
        let file = try loadFile()
        func value(_ key: String) throws -> (String, String)? {
            guard let setting = Setting.named(key) else { preconditionFailure("no setting named \(key)") }
            guard let origin = origin(of: setting, file: file) else { return nil }
            switch origin {
            case .flag(_, let raw), .variable(_, let raw), .configFile(_, let raw): return (raw, origin.name)
            case .variableFile(let variable, let path): return (try readSecret(path, name: variable), origin.name)
            }
        }
        func number(_ key: String) throws -> Double? {
            guard let (raw, source) = try value(key) else { return nil }
            guard let number = CheckedNumber.decimal(raw, in: 0...1e9) else {
                throw ConfigError("\(source) must be a number from 0 to 1000000000, got '\(raw)'")
            }
            return number
        }
        func integer(_ key: String, minimum: Int = 1) throws -> Int? {
            guard let (raw, source) = try value(key) else { return nil }
            guard let number = CheckedNumber.integer(raw, in: minimum...(1 << 50)) else {
                throw ConfigError("\(source) must be a whole number from \(minimum) to \(1 << 50), got '\(raw)'")
            }
            return number
        }
        func seconds(_ key: String) throws -> Duration? {
            guard let value = try number(key) else { return nil }
            guard value > 0 else { throw ConfigError("\(key) must be more than 0 seconds") }
            return .checkedSeconds(value)
        }

        var config = ParleyConfig()
        config.configFile = configPath
        if let (host, _) = try value("host") { config.host = host }
        if let port = try integer("port", minimum: 0) {
            guard port <= 65535 else { throw ConfigError("the port must be at most 65535, got \(port)") }
            config.port = port
        }
        if let (url, _) = try value("database_url") { config.databaseURL = url }
        if let (model, _) = try value("default_model") { config.defaultModel = model }
        if let (model, _) = try value("title_model") {
            let name = model.trimmingCharacters(in: .whitespaces)
            config.titles = name.lowercased() == "off" ? .off : name.isEmpty ? .conversationModel : .model(name)
        }
        if let budget = try integer("context_tokens", minimum: 16) { config.limits.contextTokenBudget = budget }
        if let maxTokens = try integer("max_output_tokens") { config.limits.maxOutputTokens = maxTokens }
        if let maxChars = try integer("max_message_chars") { config.limits.maxMessageCharacters = maxChars }
        if let maxBody = try integer("max_body_bytes", minimum: 1024) { config.maxBodyBytes = maxBody }
        if let maxImport = try integer("import_max_bytes", minimum: 1024) { config.maxImportBytes = maxImport }
        if let maxAttachment = try integer("attachment_max_bytes", minimum: 1024) { config.maxAttachmentBytes = maxAttachment }
        if let (patterns, _) = try value("vision_models") {
            config.visionModels = ModelNamePatterns(patterns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        }
        if let connect = try seconds("connect_timeout") { config.timeouts.connect = connect }
        if let first = try seconds("first_token_timeout") { config.timeouts.firstToken = first }
        if let idle = try seconds("idle_timeout") { config.timeouts.idle = idle }
        if let total = try seconds("request_timeout") { config.timeouts.total = total }
        if let flush = try integer("flush_interval_ms", minimum: 10) { config.flushInterval = .milliseconds(flush) }
        if let generations = try integer("max_generations") { config.maxGenerations = generations }
        if let (folder, _) = try value("embedding_model") {
            config.embeddingModelFolder = folder
            config.knowledge.embeddingModel = "local/" + URL(fileURLWithPath: folder).standardizedFileURL.lastPathComponent
        }
        if let threads = try integer("embedding_threads") { config.embeddingThreads = min(threads, 64) }
        if let (model, _) = try value("knowledge_embedding_model") { config.knowledge.embeddingModel = model }
        if let (model, _) = try value("knowledge_rerank_model") { config.knowledge.rerankModel = model }
        if let bytes = try integer("knowledge_max_document_bytes") { config.knowledge.limits.maxDocumentBytes = bytes }
        if let count = try integer("knowledge_max_documents") { config.knowledge.limits.maxDocumentsPerBase = count }
        if let workers = try integer("knowledge_ingestion_workers") {
            guard workers <= 64 else { throw ConfigError("knowledge_ingestion_workers must be at most 64") }
            config.knowledge.ingestionWorkers = workers
        }
        if let bytes = try integer("knowledge_vector_memory") { config.knowledge.vectorMemory = bytes }
        if let keepAlive = try seconds("keepalive_interval") { config.keepAliveInterval = keepAlive }
        if let lease = try seconds("generation_lease") {
            guard lease >= .seconds(1) else { throw ConfigError("generation_lease must be at least 1 second") }
            config.generationLease = lease
        }
        if let timeout = try seconds("database_timeout") { config.databaseTimeout = timeout }
        if let grace = try number("shutdown_grace") { config.shutdownGrace = .checkedSeconds(grace) }
        if let (level, source) = try value("log_level") {
            guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                throw ConfigError("\(source) must be one of trace, debug, info, notice, warning, error, critical")
            }
            config.logLevel = parsed
        }
        if let (format, source) = try value("log_format") {
            guard let parsed = ParleyConfig.LogFormat(rawValue: format.lowercased()) else {
                throw ConfigError("\(source) must be text or json")
            }
            config.logFormat = parsed
        }
        if let enabled = try boolean("metrics", value: value) { config.metricsEnabled = enabled }
        if let onLoops = try boolean("tasks_on_event_loops", value: value) { config.tasksOnEventLoops = onLoops }
        if let (token, _) = try value("metrics_token") { config.metricsToken = token.isEmpty ? nil : token }
        if let attempts = try integer("max_attempts") { config.router.maxAttempts = min(attempts, 20) }
        if let wait = try number("max_retry_wait") { config.router.maxRetryWait = .checkedSeconds(wait) }
        if let threshold = try integer("breaker_threshold") { config.router.breakerThreshold = threshold }
        if let cooldown = try seconds("breaker_cooldown") { config.router.breakerCooldown = cooldown }
        if let (json, source) = try value("model_aliases") {
            guard let aliases = try? JSONDecoder().decode([String: String].self, from: Data(json.utf8)) else {
                throw ConfigError("\(source) must be a JSON object of alias → model name")
            }
            config.router.aliases = aliases
        }
        if let (json, source) = try value("fallbacks") {
            guard let fallbacks = try? JSONDecoder().decode([String: [String]].self, from: Data(json.utf8)) else {
                throw ConfigError("\(source) must be a JSON object of model → [fallback models]")
            }
            config.router.fallbacks = fallbacks
        }
        if let (keys, _) = try value("api_keys") {
            config.apiKeys = keys.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let (directory, _) = try value("web_dir") { config.webDirectory = directory }
        if let (hosts, _) = try value("allowed_hosts") {
            config.allowedHosts = AllowedHosts(names: hosts.split(separator: ",").map(String.init))
        }
        try loadCacheAndLimits(into: &config, value: value, integer: integer, seconds: seconds)
        try loadAccounts(into: &config, value: value, integer: integer, seconds: seconds)
        config.upstreams = try upstreams(value: value)
        return config
    }

    /// OpenID Connect: on when an issuer and a client id are given.
    private func loadSingleSignOn(into config: inout ParleyConfig, value: (String) throws -> (String, String)?) throws {
        let issuer = try value("oidc_issuer")
        let client = try value("oidc_client_id")
        let rest = try ["oidc_client_secret", "oidc_scopes", "oidc_button", "oidc_redirect_url"].compactMap { key in
            try value(key).map { (key, $0) }
        }
        guard let (issuerText, issuerSource) = issuer else {
            if let (_, source) = client ?? rest.first?.1 { throw ConfigError("\(source) needs oidc_issuer") }
            return
        }
        guard let url = URL(string: issuerText), ["https", "http"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
            throw ConfigError("\(issuerSource) must be the provider's http(s) issuer URL, got '\(issuerText)'")
        }
        guard let (clientID, _) = client, !clientID.isEmpty else { throw ConfigError("\(issuerSource) needs oidc_client_id") }
        var settings = OIDCSettings(issuer: issuerText, clientID: clientID)
        for (key, (text, source)) in rest {
            switch key {
            case "oidc_client_secret": settings.clientSecret = text.isEmpty ? nil : text
            case "oidc_scopes":
                guard text.split(separator: " ").contains("openid") else { throw ConfigError("\(source) must include openid") }
                settings.scopes = text
            case "oidc_button":
                guard !text.isEmpty, text.count <= 60 else { throw ConfigError("\(source) must have 1 to 60 characters") }
                settings.buttonLabel = text
            default:
                guard let redirect = URL(string: text), ["https", "http"].contains(redirect.scheme?.lowercased() ?? ""), redirect.host != nil else {
                    throw ConfigError("\(source) must be an http(s) URL, got '\(text)'")
                }
                settings.redirectURL = text
            }
        }
        config.oidc = settings
    }

    /// Sign-up, sessions, passwords and sign-in limits.
    private func loadAccounts(into config: inout ParleyConfig, value: (String) throws -> (String, String)?,
                              integer: (String, Int) throws -> Int?, seconds: (String) throws -> Duration?) throws {
        if let (mode, source) = try value("signup") {
            guard let parsed = SignUpMode(rawValue: mode.lowercased()) else {
                throw ConfigError("\(source) must be closed, approval or open, got '\(mode)'")
            }
            config.accounts.signUp = parsed
        }
        if let idle = try seconds("session_idle") { config.accounts.sessionIdle = idle }
        if let lifetime = try seconds("session_lifetime") { config.accounts.sessionLifetime = lifetime }
        if let length = try integer("password_min_length", 8) {
            guard length <= 256 else { throw ConfigError("password_min_length must be at most 256, got \(length)") }
            config.accounts.passwords.minimumLength = length
        }
        if let cost = try integer("password_hash_cost", 14) {
            let parameters = PasswordHasher.Parameters(logN: cost, r: 8, p: 1)
            guard parameters.isAcceptable else { throw ConfigError("password_hash_cost must be from 14 to 20, got \(cost)") }
            config.passwordHash = parameters
        }
        if let threads = try integer("password_hash_threads", 1) { config.passwordHashThreads = min(threads, 64) }
        if let rate = try integer("login_rate", 1) { config.loginFailuresPerWindow = rate }
        if let rate = try integer("visitor_rate", 1) { config.visitorTurnsPerMinute = rate }
        if let days = try integer("audit_retention_days", 1) { config.auditRetention = .seconds(min(days, 36_500) * 86_400) }
        if let budget = try integer("token_budget", 1) { config.defaultTokenBudget = budget }
        if let (period, source) = try value("token_budget_period") {
            guard let parsed = BudgetPeriod(rawValue: period.lowercased()) else {
                throw ConfigError("\(source) must be day or month, got '\(period)'")
            }
            config.budgetPeriod = parsed
        }
        if let days = try integer("usage_retention_days", 1) { config.usageRetentionDays = min(days, 36_500) }
        if let (list, source) = try value("trusted_proxies") {
            var ranges: [AddressRange] = []
            for entry in list.split(separator: ",") where !entry.trimmingCharacters(in: .whitespaces).isEmpty {
                guard let range = AddressRange(String(entry)) else {
                    throw ConfigError("\(source) must list IP addresses or CIDR ranges, got '\(entry)'")
                }
                ranges.append(range)
            }
            config.trustedProxies.ranges = ranges
        }
        if let (header, source) = try value("trusted_header") {
            guard !header.isEmpty, header.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw ConfigError("\(source) must be a header name, got '\(header)'")
            }
            guard !config.trustedProxies.ranges.isEmpty else {
                throw ConfigError("\(source) needs trusted_proxies: the header is accepted only from them")
            }
            config.trustedProxies.header = header
        }
        try loadSingleSignOn(into: &config, value: value)
        if let secure = try boolean("secure_cookies", value: value) { config.secureCookies = secure }
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
    private func boolean(_ key: String, value: (String) throws -> (String, String)?) throws -> Bool? {
        guard let (flag, source) = try value(key) else { return nil }
        switch flag.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigError("\(source) must be true or false, got '\(flag)'")
        }
    }

    /// Redis, the response cache and rate limits.
    private func loadCacheAndLimits(into config: inout ParleyConfig, value: (String) throws -> (String, String)?,
                                    integer: (String, Int) throws -> Int?, seconds: (String) throws -> Duration?) throws {
        if let (url, source) = try value("redis_url") {
            do {
                _ = try RedisConfiguration(url: url)
            } catch {
                throw ConfigError("\(source): \(error)")
            }
            config.redisURL = url
        }
        if let (mode, source) = try value("redis_failure") {
            guard let parsed = SharedBackendFailure(rawValue: mode.lowercased()) else {
                throw ConfigError("\(source) must be open or closed, got '\(mode)'")
            }
            config.redisFailure = parsed
        }
        if let (backend, source) = try value("cache") {
            guard let parsed = ParleyConfig.CacheBackend(rawValue: backend.lowercased()) else {
                throw ConfigError("\(source) must be memory, redis or off, got '\(backend)'")
            }
            guard parsed != .redis || config.redisURL != nil else {
                throw ConfigError("\(source) is redis but PARLEY_REDIS_URL is not set")
            }
            config.cache.backend = parsed
        } else {
            config.cache.backend = config.redisURL == nil ? .memory : .redis
        }
        if let ttl = try seconds("cache_ttl") { config.cache.ttl = ttl }
        if let entries = try integer("cache_max_entries", 1) { config.cache.maxEntries = entries }
        if let bytes = try integer("cache_max_bytes", 1024) { config.cache.maxBytes = bytes }
        if let bytes = try integer("cache_max_entry_bytes", 256) { config.cache.maxEntryBytes = bytes }
        config.rateLimits.requestsPerMinute = try integer("rate_limit_rpm", 1)
        config.rateLimits.tokensPerMinute = try integer("rate_limit_tpm", 1)
        config.rateLimits.concurrentStreams = try integer("rate_limit_streams", 1)
        config.rateLimits.modelRequestsPerMinute = try Self.modelLimits(value("model_rpm"))
        config.rateLimits.modelTokensPerMinute = try Self.modelLimits(value("model_tpm"))
    }

    /// `model=N,model=N`.
    static func modelLimits(_ setting: (String, String)?) throws -> [String: Int] {
        guard let (raw, source) = setting else { return [:] }
        var limits: [String: Int] = [:]
        for entry in raw.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, let limit = CheckedNumber.integer(parts[1], in: 1...(1 << 50)) else {
                throw ConfigError("\(source) takes model=limit pairs separated by commas, e.g. gpt-4o=500; got '\(entry)'")
            }
            limits[parts[0]] = limit
        }
        return limits
    }

    /// Upstreams from `PARLEY_UPSTREAMS`/the file's `upstreams`, `--upstream NAME=URL` flags, and
    /// `OPENAI_BASE_URL` + `OPENAI_API_KEY` (named `openai`). An upstream without a key takes
    /// `PARLEY_UPSTREAM_<NAME>_API_KEY` (or its `_FILE`) when set.
    private func upstreams(value: (String) throws -> (String, String)?) throws -> [UpstreamConfig] {
        var result: [UpstreamConfig] = []
        if let (json, source) = try value("upstreams") {
            result += try parseUpstreamList(json, source: source)
        }
        if let (list, _) = try value("upstream") {
            for entry in list.split(separator: "\n") {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, Self.isHTTPURL(parts[1]) else {
                    throw ConfigError("--upstream takes NAME=URL, e.g. local=http://127.0.0.1:11434/v1; got '\(entry)'")
                }
                result.append(UpstreamConfig(name: parts[0], baseURL: parts[1]))
            }
        }
        let key = try value("openai_api_key")?.0
        if let (baseURL, source) = try value("openai_base_url") {
            guard Self.isHTTPURL(baseURL) else { throw ConfigError("\(source) must be an http(s) URL, got '\(baseURL)'") }
            result.append(UpstreamConfig(name: "openai", baseURL: baseURL, apiKey: key))
        } else if let key, !key.isEmpty, !result.contains(where: { $0.name == "openai" }) {
            result.append(UpstreamConfig(name: "openai", baseURL: "https://api.openai.com/v1", apiKey: key))
        }
        if let (key, _) = try value("anthropic_api_key"), !result.contains(where: { $0.name == "anthropic" }) {
            result.append(UpstreamConfig(name: "anthropic", baseURL: "https://api.anthropic.com", apiKey: key, kind: .anthropic))
        }
        if let (host, source) = try value("ollama_host"), !result.contains(where: { $0.name == "ollama" }) {
            var root = host.contains("://") ? host : "http://" + host
            while root.hasSuffix("/") { root.removeLast() }
            guard Self.isHTTPURL(root) else { throw ConfigError("\(source) must be host:port or an http URL, got '\(host)'") }
            result.append(UpstreamConfig(name: "ollama", baseURL: root + "/v1", kind: .ollama))
        }
        var names = Set<String>()
        for index in result.indices {
            guard names.insert(result[index].name).inserted else {
                throw ConfigError("two upstreams are named '\(result[index].name)'")
            }
            if result[index].apiKey == nil {
                let variable = "PARLEY_UPSTREAM_\(Self.environmentName(result[index].name))_API_KEY"
                if let key = environment[variable], !key.isEmpty {
                    result[index].apiKey = key
                } else if let path = environment[variable + "_FILE"], !path.isEmpty {
                    result[index].apiKey = try readSecret(path, name: variable + "_FILE")
                }
            }
        }
        return result
    }

    private func parseUpstreamList(_ json: String, source: String) throws -> [UpstreamConfig] {
        /// A served model: its name, or `{"name": clients' name, "model": the upstream's name}`.
        struct ModelEntry: Decodable {
            var name: String
            var model: String?
            init(from decoder: any Decoder) throws {
                if let name = try? decoder.singleValueContainer().decode(String.self) {
                    self.name = name
                    return
                }
                let container = try decoder.container(keyedBy: CodingKeys.self)
                name = try container.decode(String.self, forKey: .name)
                model = try container.decodeIfPresent(String.self, forKey: .model)
            }
            enum CodingKeys: String, CodingKey { case name, model }
        }
        struct Entry: Decodable {
            var name: String
            var provider: String?
            var baseURL: String?
            var models: [ModelEntry]?
            var apiKey: String?
            var apiKeyEnv: String?
            var apiKeyFile: String?
            enum CodingKeys: String, CodingKey {
                case name, models, provider
                case baseURL = "base_url"
                case apiKey = "api_key"
                case apiKeyEnv = "api_key_env"
                case apiKeyFile = "api_key_file"
            }
        }
        let entries: [Entry]
        do {
            entries = try JSONDecoder().decode([Entry].self, from: Data(json.utf8))
        } catch {
            throw ConfigError("\(source) must be a JSON array of {\"name\", \"provider\"?, \"base_url\", \"models\"?, \"api_key_env\"?, \"api_key_file\"?}")
        }
        return try entries.map { entry in
            guard let kind = ProviderKind(rawValue: entry.provider ?? "openai") else {
                throw ConfigError("\(source): upstream '\(entry.name)' has provider '\(entry.provider ?? "")'; use openai, anthropic or ollama")
            }
            let defaultURL: String? = switch kind {
            case .anthropic: "https://api.anthropic.com"
            case .ollama: "http://127.0.0.1:11434/v1"
            case .openai: nil
            }
            guard !entry.name.isEmpty, let baseURL = entry.baseURL ?? defaultURL, Self.isHTTPURL(baseURL) else {
                throw ConfigError("\(source): upstream '\(entry.name)' needs a name and an http(s) base_url")
            }
            var key = entry.apiKey
            if let variable = entry.apiKeyEnv { key = environment[variable] }
            if let path = entry.apiKeyFile { key = try readSecret(path, name: "api_key_file of \(entry.name)") }
            var renames: [String: String] = [:]
            for model in entry.models ?? [] { if let upstreamName = model.model { renames[model.name] = upstreamName } }
            return UpstreamConfig(name: entry.name, baseURL: baseURL, apiKey: key, models: entry.models?.map(\.name), kind: kind,
                                  upstreamNames: renames)
        }
    }

    /// `--config` or `PARLEY_CONFIG`.
    private var configPath: String? {
        let path = flags["config"] ?? environment["PARLEY_CONFIG"]
        return path?.isEmpty == false ? path : nil
    }

    /// The config file's settings as strings; nested values (the upstream list) as JSON text.
    private func loadFile() throws -> [String: String] {
        guard let path = configPath else { return [:] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("cannot read the config file \(path)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConfigError("the config file \(path) must hold a JSON object")
        }
        let known = Set(Setting.all.filter(\.inFile).map(\.key))
        var result: [String: String] = [:]
        for (key, value) in object {
            guard known.contains(key) else {
                throw ConfigError("unknown setting '\(key)' in \(path); known: \(known.sorted().joined(separator: ", "))")
            }
            switch value {
            case let text as String: result[key] = text
            case let number as NSNumber: result[key] = number.stringValue
            default:
                let nested = try JSONSerialization.data(withJSONObject: value)
                result[key] = String(decoding: nested, as: UTF8.self)
            }
        }
        return result
    }

    private func readSecret(_ path: String, name: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("cannot read \(name) at \(path)")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func isHTTPURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), url.host != nil else { return false }
        return scheme == "http" || scheme == "https"
    }

    static func environmentName(_ name: String) -> String {
        String(name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
}
