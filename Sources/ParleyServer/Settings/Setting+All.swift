import Foundation
import Logging
import ParleyAccounts
import ParleyCore
import ParleyGateway
import ParleyProviders
import ParleyRetrieval

extension Setting {
    /// Every setting of `parley serve`, in the order `--help`, `--print-config` and the README list them.
    public static let all: [Setting] = server + accounts + models + gateway + chat + knowledge + operation + sharing

    private static let server: [Setting] = [
        Setting("host", environment: "PARLEY_HOST", flag: "host", default: .value("127.0.0.1"),
                help: "Address to listen on.") { $0.host },
        Setting("port", environment: "PARLEY_PORT", flag: "port", default: .value("8080"),
                help: "Port to listen on; `0` picks a free one.") { "\($0.port)" },
        Setting("database_url", environment: "PARLEY_DATABASE_URL", flag: "database", default: .value("sqlite://parley.db"),
                help: "`sqlite:///absolute/path.db`, `sqlite://relative.db`, or `postgres://user:password@host:5432/database` (`?sslmode=require` for TLS, `?pool_size=N` for the pool).") {
            SecretMask.maskingPassword(inURL: $0.databaseURL)
        },
        Setting("config", environment: "PARLEY_CONFIG", flag: "config", default: .described("none"),
                help: "A JSON config file whose keys are the settings' names (`max_body_bytes`).", inFile: false) { $0.configFile },
        Setting("allowed_hosts", environment: "PARLEY_ALLOWED_HOSTS", flag: "allowed-hosts",
                default: .described("IP addresses, `localhost` and the listen address"),
                help: "Comma-separated host names this server also answers to; others get a 403, against DNS rebinding. `*` allows any, for a proxy that checks names itself.") {
            let hosts = $0.effectiveAllowedHosts
            return hosts.allowsAny ? "*" : hosts.names.sorted().joined(separator: ",")
        },
        Setting("max_body_bytes", environment: "PARLEY_MAX_BODY_BYTES", flag: "max-body-bytes", default: .value("1048576"),
                help: "Largest request body in bytes; larger gets a 413.") { "\($0.maxBodyBytes)" },
        Setting("import_max_bytes", environment: "PARLEY_IMPORT_MAX_BYTES", flag: "import-max-bytes", default: .value("1073741824"),
                help: "Largest export file (ChatGPT, Open WebUI, LibreChat) imported at `POST /api/v1/imports`, in bytes; it is read as it arrives, one conversation at a time.") {
            "\($0.maxImportBytes)"
        },
        Setting("web_dir", environment: "PARLEY_WEB_DIR", flag: "web-dir", default: .described("built in"),
                help: "Serve the web UI from this folder (laid out like `Sources/ParleyServer/Web`), read at start-up, instead of the copy built in.") {
            $0.webDirectory
        },
        Setting("log_level", environment: "PARLEY_LOG_LEVEL", flag: "log-level", default: .value("info"),
                help: "`trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical`.") { $0.logLevel.rawValue },
        Setting("log_format", environment: "PARLEY_LOG_FORMAT", flag: "log-format", default: .value("text"),
                help: "`text`, or `json`: one JSON object per line for log collectors.") { $0.logFormat.rawValue },
    ]

    private static let accounts: [Setting] = [
        Setting("signup", environment: "PARLEY_SIGNUP", flag: "signup", default: .value("closed"),
                help: "Who may create an account: `closed` (administrators add people), `approval` (anyone signs up; an administrator approves) or `open`.") {
            $0.accounts.signUp.rawValue
        },
        Setting("session_idle", environment: "PARLEY_SESSION_IDLE", flag: "session-idle", default: .value("604800"),
                help: "Seconds a browser session may go unused before it ends (7 days).") { seconds($0.accounts.sessionIdle) },
        Setting("session_lifetime", environment: "PARLEY_SESSION_LIFETIME", flag: "session-lifetime", default: .value("2592000"),
                help: "Seconds after sign-in a session ends however active it is (30 days).") { seconds($0.accounts.sessionLifetime) },
        Setting("password_min_length", environment: "PARLEY_PASSWORD_MIN_LENGTH", flag: "password-min-length", default: .value("12"),
                help: "Fewest characters in a password (at least 8); the most common passwords are refused whatever their length.") {
            "\($0.accounts.passwords.minimumLength)"
        },
        Setting("password_hash_cost", environment: "PARLEY_PASSWORD_HASH_COST", flag: "password-hash-cost", default: .value("17"),
                help: "scrypt's cost as log2 N, from 14 to 20: 17 is OWASP's (128 MiB and about 0.3 s per sign-in); older hashes are upgraded at the next sign-in.") {
            "\($0.passwordHash.logN)"
        },
        Setting("password_hash_threads", environment: "PARLEY_PASSWORD_HASH_THREADS", flag: "password-hash-threads", default: .value("2"),
                help: "Passwords hashed at once; more sign-ins wait their turn, so memory stays under this many times the hash's.") {
            "\($0.passwordHashThreads)"
        },
        Setting("login_rate", environment: "PARLEY_LOGIN_RATE", flag: "login-rate", default: .value("10"),
                help: "Failed sign-ins per 10 minutes per account and per client address before a 429; a right password from an address without failures still gets in.") {
            "\($0.loginFailuresPerWindow)"
        },
        Setting("visitor_rate", environment: "PARLEY_VISITOR_RATE", flag: "visitor-rate", default: .value("10"),
                help: "Chats started plus questions asked per minute by one client address at published assistants (the public page and the widget) before a 429.") {
            "\($0.visitorTurnsPerMinute)"
        },
        Setting("audit_retention_days", environment: "PARLEY_AUDIT_RETENTION_DAYS", flag: "audit-retention-days", default: .value("90"),
                help: "Days security events (sign-ins, failures, key and role changes) are kept for administrators.") {
            "\($0.auditRetention.components.seconds / 86_400)"
        },
        Setting("token_budget", environment: "PARLEY_TOKEN_BUDGET", flag: "token-budget", default: .described("none"),
                help: "Tokens each user may spend per `token_budget_period` (prompt and answer, on the chat API and `/v1`), unless an administrator sets the user's own; spent, requests get a 429 until the period ends.") {
            $0.defaultTokenBudget.map { "\($0)" }
        },
        Setting("token_budget_period", environment: "PARLEY_TOKEN_BUDGET_PERIOD", flag: "token-budget-period", default: .value("day"),
                help: "What users' and keys' token budgets count over: `day` or `month` (UTC).") {
            $0.budgetPeriod.rawValue
        },
        Setting("usage_retention_days", environment: "PARLEY_USAGE_RETENTION_DAYS", flag: "usage-retention-days", default: .value("400"),
                help: "Days the daily usage per user, key and model is kept.") {
            "\($0.usageRetentionDays)"
        },
        Setting("trusted_proxies", environment: "PARLEY_TRUSTED_PROXIES", flag: "trusted-proxies", default: .described("none"),
                help: "Comma-separated addresses or CIDR ranges of proxies in front of Parley: their `X-Forwarded-For` names the client (for sign-in limits and sessions), and their `trusted_header` signs users in.") {
            $0.trustedProxies.ranges.isEmpty ? nil : $0.trustedProxies.ranges.map(\.description).joined(separator: ",")
        },
        Setting("trusted_header", environment: "PARLEY_TRUSTED_HEADER", flag: "trusted-header", default: .described("–"),
                help: "A header with the signed-in user's email set by a trusted proxy (oauth2-proxy, Authelia: `X-Forwarded-Email`); accepted only from `trusted_proxies`.") {
            $0.trustedProxies.header
        },
        Setting("oidc_issuer", environment: "PARLEY_OIDC_ISSUER", flag: "oidc-issuer", default: .described("off"),
                help: "An OpenID Connect provider's issuer URL (Keycloak, Authentik, Entra ID…): with `oidc_client_id`, the sign-in page offers single sign-on (authorization code with PKCE; the ID token checked against the provider's keys).") {
            $0.oidc?.issuer
        },
        Setting("oidc_client_id", environment: "PARLEY_OIDC_CLIENT_ID", flag: "oidc-client-id", default: .described("–"),
                help: "Parley's client id at the provider.") { $0.oidc?.clientID },
        Setting("oidc_client_secret", environment: "PARLEY_OIDC_CLIENT_SECRET", flag: nil, default: .described("–"),
                help: "The client's secret, for providers that give one (sent to the token endpoint only).", secret: true) {
            $0.oidc?.clientSecret
        },
        Setting("oidc_scopes", environment: "PARLEY_OIDC_SCOPES", flag: "oidc-scopes", default: .value("openid email profile"),
                help: "Scopes asked of the provider; the ID token must carry a verified `email`.") { $0.oidc?.scopes ?? "openid email profile" },
        Setting("oidc_button", environment: "PARLEY_OIDC_BUTTON", flag: "oidc-button", default: .value("Single sign-on"),
                help: "The words on the sign-in page's single sign-on button.") { $0.oidc?.buttonLabel ?? "Single sign-on" },
        Setting("oidc_redirect_url", environment: "PARLEY_OIDC_REDIRECT_URL", flag: "oidc-redirect-url", default: .described("from the request"),
                help: "The callback address registered at the provider, `https://chat.example.com/api/v1/auth/oidc/callback`; by default built from the request's host (`https` with `secure_cookies`).") {
            $0.oidc?.redirectURL
        },
        Setting("secure_cookies", environment: "PARLEY_SECURE_COOKIES", flag: "secure-cookies", default: .value("false"),
                help: "`true` when users reach Parley over HTTPS (through a proxy): cookies get `Secure` and responses `Strict-Transport-Security`.") {
            "\($0.secureCookies)"
        },
    ]

    private static let models: [Setting] = [
        Setting("openai_base_url", environment: "OPENAI_BASE_URL", flag: "openai-base-url", default: .described("–"),
                help: "An OpenAI-compatible API root including `/v1`, e.g. `http://127.0.0.1:11434/v1`; adds an upstream named `openai`.") {
            upstream("openai", of: $0)?.baseURL
        },
        Setting("openai_api_key", environment: "OPENAI_API_KEY", flag: nil, default: .described("–"),
                help: "The key of `openai_base_url`; alone, it means OpenAI itself.", secret: true) {
            upstream("openai", of: $0)?.apiKey
        },
        Setting("upstream", environment: nil, flag: "upstream", default: .described("–"),
                help: "One more OpenAI-compatible upstream as `NAME=URL`; repeat the flag for several.",
                inFile: false, repeatable: true) { _ in nil },
        Setting("upstreams", environment: "PARLEY_UPSTREAMS", flag: "upstreams", default: .described("–"),
                help: "Several upstreams as a JSON array of `{name, provider? (openai|anthropic|ollama), base_url, models? (names, or {name, model} to rename), api_key_env?, api_key_file?}`; `--print-config` lists every upstream in effect here.",
                alsoFrom: ["upstream", "openai_base_url", "openai_api_key", "anthropic_api_key", "ollama_host"]) {
            $0.upstreams.isEmpty ? nil : $0.upstreams.map(describe).joined(separator: ", ")
        },
        Setting("anthropic_api_key", environment: "ANTHROPIC_API_KEY", flag: nil, default: .described("–"),
                help: "Adds Anthropic (`https://api.anthropic.com`) as an upstream named `anthropic`.", secret: true) {
            upstream("anthropic", of: $0)?.apiKey
        },
        Setting("ollama_host", environment: "OLLAMA_HOST", flag: "ollama-host", default: .described("–"),
                help: "Adds Ollama at this address (`127.0.0.1:11434`) as an upstream named `ollama`, through its `/v1` API.") {
            upstream("ollama", of: $0)?.baseURL
        },
        Setting("default_model", environment: "PARLEY_DEFAULT_MODEL", flag: "default-model", default: .described("first listed"),
                help: "Model for messages and conversations that name none.") { $0.defaultModel },
        Setting("title_model", environment: "PARLEY_TITLE_MODEL", flag: "title-model", default: .described("the chat's model"),
                help: "Model that names a conversation after its first answer (a small one saves tokens); `off` keeps the first line of the first message.") {
            $0.titles.setting
        },
        Setting("model_aliases", environment: "PARLEY_MODEL_ALIASES", flag: "model-aliases", default: .described("–"),
                help: "JSON object, name clients use → model, e.g. `{\"gpt-4o\": \"llama3.1\"}`.") {
            $0.router.aliases.isEmpty ? nil : json($0.router.aliases)
        },
        Setting("fallbacks", environment: "PARLEY_FALLBACKS", flag: "fallbacks", default: .described("–"),
                help: "JSON object, model → models tried in order when it cannot answer, e.g. `{\"big\": [\"small\"]}`.") {
            $0.router.fallbacks.isEmpty ? nil : json($0.router.fallbacks)
        },
    ]

    private static let gateway: [Setting] = [
        Setting("api_keys", environment: "PARLEY_API_KEYS", flag: nil, default: .described("–"),
                help: "Comma-separated bearer keys for `/v1`; with none, `/v1` answers clients on this machine only.", secret: true) {
            $0.apiKeys.isEmpty ? nil : $0.apiKeys.joined(separator: ",")
        },
        Setting("connect_timeout", environment: "PARLEY_CONNECT_TIMEOUT", flag: "connect-timeout", default: .value("10"),
                help: "Seconds to connect to an upstream.") { seconds($0.timeouts.connect) },
        Setting("first_token_timeout", environment: "PARLEY_FIRST_TOKEN_TIMEOUT", flag: "first-token-timeout", default: .value("60"),
                help: "Seconds to an upstream's first event.") { seconds($0.timeouts.firstToken) },
        Setting("idle_timeout", environment: "PARLEY_IDLE_TIMEOUT", flag: "idle-timeout", default: .value("30"),
                help: "Longest silence in seconds between two events of a stream.") { seconds($0.timeouts.idle) },
        Setting("request_timeout", environment: "PARLEY_REQUEST_TIMEOUT", flag: "request-timeout", default: .value("600"),
                help: "Seconds a model call may take in all, retries and fallbacks included.") { seconds($0.timeouts.total) },
        Setting("max_attempts", environment: "PARLEY_MAX_ATTEMPTS", flag: "max-attempts", default: .value("3"),
                help: "Upstream calls per model (the first and its retries, at most 20) before falling back.") { "\($0.router.maxAttempts)" },
        Setting("max_retry_wait", environment: "PARLEY_MAX_RETRY_WAIT", flag: "max-retry-wait", default: .value("20"),
                help: "Longest `Retry-After` in seconds Parley waits out; longer goes to a fallback or back to the client.") {
            seconds($0.router.maxRetryWait)
        },
        Setting("breaker_threshold", environment: "PARLEY_BREAKER_THRESHOLD", flag: "breaker-threshold", default: .value("5"),
                help: "Failures in a row that open a deployment's circuit breaker.") { "\($0.router.breakerThreshold)" },
        Setting("breaker_cooldown", environment: "PARLEY_BREAKER_COOLDOWN", flag: "breaker-cooldown", default: .value("30"),
                help: "Seconds an open breaker turns its deployment away before one probe.") { seconds($0.router.breakerCooldown) },
    ]

    private static let chat: [Setting] = [
        Setting("context_tokens", environment: "PARLEY_CONTEXT_TOKENS", flag: "context-tokens", default: .value("8192"),
                help: "Token budget of the history sent upstream (at least 16).") { "\($0.limits.contextTokenBudget)" },
        Setting("max_output_tokens", environment: "PARLEY_MAX_OUTPUT_TOKENS", flag: "max-output-tokens", default: .described("not sent"),
                help: "`max_tokens` sent upstream.") { $0.limits.maxOutputTokens.map { "\($0)" } },
        Setting("max_message_chars", environment: "PARLEY_MAX_MESSAGE_CHARS", flag: "max-message-chars", default: .value("100000"),
                help: "Longest user message in characters.") { "\($0.limits.maxMessageCharacters)" },
        Setting("attachment_max_bytes", environment: "PARLEY_ATTACHMENT_MAX_BYTES", flag: "attachment-max-bytes", default: .value("20971520"),
                help: "Largest file or image attached to a message (`POST /api/v1/attachments`), in bytes; an upload is refused with a 413 as soon as it passes it.") {
            "\($0.maxAttachmentBytes)"
        },
        Setting("vision_models", environment: "PARLEY_VISION_MODELS", flag: "vision-models",
                default: .value(ParleyConfig.defaultVisionModels.joined(separator: ",")),
                help: "Comma-separated model names (`*` matches any run of characters) that take images; a message with an image for another model is refused before anything is sent.") {
            $0.visionModels.patterns.joined(separator: ",")
        },
        Setting("max_generations", environment: "PARLEY_MAX_GENERATIONS", flag: "max-generations", default: .value("1000"),
                help: "Most answers generated at once; more get a 503.") { "\($0.maxGenerations)" },
        Setting("flush_interval_ms", environment: "PARLEY_FLUSH_INTERVAL_MS", flag: "flush-interval-ms", default: .value("200"),
                help: "How often partial answers are saved, in milliseconds (at least 10).") { "\($0.flushInterval.wholeMilliseconds)" },
        Setting("keepalive_interval", environment: "PARLEY_KEEPALIVE_INTERVAL", flag: "keepalive-interval", default: .value("15"),
                help: "Seconds between keep-alive comments on idle event streams.") { seconds($0.keepAliveInterval) },
    ]

    private static let knowledge: [Setting] = [
        Setting("embedding_model", environment: "PARLEY_EMBEDDING_MODEL", flag: "embedding-model",
                default: .described("none"),
                help: "A sentence-transformers model folder (BERT architecture: all-MiniLM-L6-v2, bge-small-en-v1.5, e5-small-v2) that Parley runs itself, served as `local/<folder name>` on `/v1/embeddings` and the default embedding model of knowledge bases; loaded when first used.") {
            $0.embeddingModelFolder ?? "none"
        },
        Setting("embedding_threads", environment: "PARLEY_EMBEDDING_THREADS", flag: "embedding-threads",
                default: .described("cores − 1, at least 1"),
                help: "Threads that run the built-in embedding model; the rest of the cores stay with requests and chat streams.") {
            "\($0.embeddingThreads)"
        },
        Setting("knowledge_embedding_model", environment: "PARLEY_KNOWLEDGE_EMBEDDING_MODEL", flag: "knowledge-embedding-model",
                default: .described("`local/<folder name>` with `embedding_model`, else none: full-text search only"),
                help: "Embedding model (served by the router, as on `/v1/embeddings`) of new knowledge bases that name none.") {
            $0.knowledge.embeddingModel
        },
        Setting("knowledge_rerank_model", environment: "PARLEY_KNOWLEDGE_RERANK_MODEL", flag: "knowledge-rerank-model",
                default: .described("none: fused order"),
                help: "Reranking model (served by the router on an upstream's `/rerank` in Cohere's shape: Cohere, Jina, vLLM) that reorders the best 20 passages of each search.") {
            $0.knowledge.rerankModel
        },
        Setting("knowledge_max_document_bytes", environment: "PARLEY_KNOWLEDGE_MAX_DOCUMENT_BYTES",
                flag: "knowledge-max-document-bytes", default: .value("33554432"),
                help: "Largest document uploaded to a knowledge base, in bytes; larger gets a 413.") {
            "\($0.knowledge.limits.maxDocumentBytes)"
        },
        Setting("knowledge_max_documents", environment: "PARLEY_KNOWLEDGE_MAX_DOCUMENTS", flag: "knowledge-max-documents",
                default: .value("10000"), help: "Most documents in one knowledge base.") {
            "\($0.knowledge.limits.maxDocumentsPerBase)"
        },
        Setting("knowledge_ingestion_workers", environment: "PARLEY_KNOWLEDGE_INGESTION_WORKERS", flag: "knowledge-ingestion-workers",
                default: .value("2"), help: "Documents this replica reads, chunks and embeds at once.") {
            "\($0.knowledge.ingestionWorkers)"
        },
        Setting("knowledge_vector_memory", environment: "PARLEY_KNOWLEDGE_VECTOR_MEMORY", flag: "knowledge-vector-memory",
                default: .value("1073741824"),
                help: "Most bytes of knowledge bases' vector indexes this replica keeps in memory; the least recently searched go first and are loaded again from the database when next searched (the base being searched always stays). A million passages of 384 dimensions take 588 MB.") {
            "\($0.knowledge.vectorMemory)"
        },
    ]

    private static let operation: [Setting] = [
        Setting("shutdown_grace", environment: "PARLEY_SHUTDOWN_GRACE", flag: "shutdown-grace", default: .value("10"),
                help: "Seconds running answers may finish on SIGTERM before they are stored as `interrupted`.") { seconds($0.shutdownGrace) },
        Setting("generation_lease", environment: "PARLEY_GENERATION_LEASE", flag: "generation-lease", default: .value("15"),
                help: "Seconds a replica holds an answer it generates, or a document it ingests, without renewing (renewed every third of it); a dead replica's answers are marked `interrupted`, and its documents taken over, within about this long plus a third.") {
            seconds($0.generationLease)
        },
        Setting("tasks_on_event_loops", environment: "PARLEY_TASKS_ON_EVENT_LOOPS", flag: "tasks-on-event-loops",
                default: .value("false"),
                help: "`true` runs Swift's tasks on the server's event loops instead of Swift's own thread pool: a request and its upstream call stay on one thread, which answers one client at a time faster (up to a fifth more `/v1` calls per second, far fewer context switches) and 64 at once 7–9 % slower; chat turns take a tenth less CPU but the slowest first tokens come 14–24 ms later (bench/RESULTS.md).") {
            "\($0.tasksOnEventLoops)"
        },
        Setting("database_timeout", environment: "PARLEY_DATABASE_TIMEOUT", flag: "database-timeout", default: .value("5"),
                help: "Seconds one database call may take before the request gets a 503.") { seconds($0.databaseTimeout) },
        Setting("metrics", environment: "PARLEY_METRICS", flag: "metrics", default: .value("true"),
                help: "`false` turns off `/metrics` (Prometheus text format) and the measurements behind it.") { "\($0.metricsEnabled)" },
        Setting("metrics_token", environment: "PARLEY_METRICS_TOKEN", flag: nil, default: .described("none: open"),
                help: "When set, `/metrics` answers only `Authorization: Bearer <token>` (Prometheus's `authorization` setting).",
                secret: true) { $0.metricsToken },
    ]

    private static let sharing: [Setting] = [
        Setting("redis_url", environment: "PARLEY_REDIS_URL", flag: "redis-url", default: .described("–"),
                help: "`redis://[[user]:password@]host[:port][/db]`: cache, rate limits and replica events shared through Redis.") {
            $0.redisURL.map(SecretMask.maskingPassword(inURL:))
        },
        Setting("redis_failure", environment: "PARLEY_REDIS_FAILURE", flag: "redis-failure", default: .value("open"),
                help: "While Redis is down: `open` (this process's memory serves cache and limits) or `closed` (limited requests get a 503; the cache is bypassed).") {
            $0.redisFailure.rawValue
        },
        Setting("cache", environment: "PARLEY_CACHE", flag: "cache", default: .described("`memory` (`redis` with a Redis URL)"),
                help: "Response cache: `memory`, `redis` or `off`.") { $0.cache.backend.rawValue },
        Setting("cache_ttl", environment: "PARLEY_CACHE_TTL", flag: "cache-ttl", default: .value("3600"),
                help: "Seconds an answer is kept unless the request says otherwise.") { seconds($0.cache.ttl) },
        Setting("cache_max_entries", environment: "PARLEY_CACHE_MAX_ENTRIES", flag: "cache-max-entries", default: .value("10000"),
                help: "Most answers in the memory cache (least recently used go first).") { "\($0.cache.maxEntries)" },
        Setting("cache_max_bytes", environment: "PARLEY_CACHE_MAX_BYTES", flag: "cache-max-bytes", default: .value("268435456"),
                help: "Most bytes in the memory cache.") { "\($0.cache.maxBytes)" },
        Setting("cache_max_entry_bytes", environment: "PARLEY_CACHE_MAX_ENTRY_BYTES", flag: "cache-max-entry-bytes", default: .value("1048576"),
                help: "Largest answer cached, in bytes.") { "\($0.cache.maxEntryBytes)" },
        Setting("rate_limit_rpm", environment: "PARLEY_RATE_LIMIT_RPM", flag: "rate-limit-rpm", default: .described("off"),
                help: "Requests per minute per API key (per client address without keys, and on the chat API).") {
            $0.rateLimits.requestsPerMinute.map { "\($0)" }
        },
        Setting("rate_limit_tpm", environment: "PARLEY_RATE_LIMIT_TPM", flag: "rate-limit-tpm", default: .described("off"),
                help: "Tokens per minute per API key or address: the prompt's estimate plus `max_tokens` reserved, settled with the real usage.") {
            $0.rateLimits.tokensPerMinute.map { "\($0)" }
        },
        Setting("rate_limit_streams", environment: "PARLEY_RATE_LIMIT_STREAMS", flag: "rate-limit-streams", default: .described("off"),
                help: "Streamed answers at once per API key or address.") { $0.rateLimits.concurrentStreams.map { "\($0)" } },
        Setting("model_rpm", environment: "PARLEY_MODEL_RPM", flag: "model-rpm", default: .described("–"),
                help: "Requests per minute per model over all callers: `gpt-4o=500,llama3=100`.") {
            pairs($0.rateLimits.modelRequestsPerMinute)
        },
        Setting("model_tpm", environment: "PARLEY_MODEL_TPM", flag: "model-tpm", default: .described("–"),
                help: "Tokens per minute per model over all callers: `gpt-4o=200000`.") { pairs($0.rateLimits.modelTokensPerMinute) },
    ]
}

// How effective values are written by `--print-config`: as they would be given.
extension Setting {
    static func upstream(_ name: String, of config: ParleyConfig) -> UpstreamConfig? {
        config.upstreams.first { $0.name == name }
    }

    static func describe(_ upstream: UpstreamConfig) -> String {
        var notes = [upstream.kind.rawValue]
        if upstream.apiKey != nil { notes.append("key set") }
        if let models = upstream.models { notes.append("models " + models.joined(separator: " ")) }
        return "\(upstream.name)=\(upstream.baseURL) (\(notes.joined(separator: ", ")))"
    }

    static func seconds(_ duration: Duration) -> String {
        duration.components.attoseconds == 0 ? "\(duration.components.seconds)" : String(format: "%g", duration.secondsValue)
    }

    static func json<Value: Encodable>(_ value: Value) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
    }

    static func pairs(_ limits: [String: Int]) -> String? {
        limits.isEmpty ? nil : limits.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }
}
