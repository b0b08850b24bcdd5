import Foundation
import Logging
import ParleyAccounts
import ParleyCore
import ParleyGateway
import ParleyProviders
import ParleyRetrieval

/// Everything `parley serve` can be told. Built by ``ConfigLoader`` from flags, environment and a config file.
public struct ParleyConfig: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// `sqlite:///absolute/path.db`, `sqlite://relative/path.db` or a plain file path.
    public var databaseURL = "sqlite://parley.db"
    public var upstreams: [UpstreamConfig] = []
    /// Retries, fallbacks, aliases, circuit breaking.
    public var router = RouterSettings()
    /// Bearer keys accepted on `/v1`; with none, `/v1` answers loopback clients only.
    public var apiKeys: [String] = []
    public var defaultModel: String?
    /// Who names conversations after their first exchange.
    public var titles: TitleWriter = .conversationModel
    public var timeouts = UpstreamTimeouts()
    public var limits = ChatLimits()
    /// Largest accepted request body.
    public var maxBodyBytes = 1 << 20
    /// Largest export file imported from another chat app (streamed: memory holds one conversation of it).
    public var maxImportBytes = 1 << 30
    /// Largest file or image attached to a message.
    public var maxAttachmentBytes = 20 << 20
    /// The models that take images.
    public var visionModels = ModelNamePatterns(ParleyConfig.defaultVisionModels)
    /// Model names known to take images, from OpenAI, Anthropic, Google, Mistral and the open vision models Ollama
    /// and vLLM serve.
    public static let defaultVisionModels = [
        "gpt-4o*", "chatgpt-4o*", "gpt-4.1*", "gpt-4-turbo*", "gpt-5*", "o1", "o1-20*", "o3*", "o4*", "claude-3*",
        "claude-sonnet-*", "claude-opus-*", "claude-haiku-*", "gemini-*", "pixtral*", "mistral-small*", "mistral-medium*",
        "llava*", "bakllava*", "*vision*", "*-vl*", "qwen*vl*", "gemma3*", "minicpm-v*", "moondream*", "llama4*",
    ]
    public var flushInterval: Duration = .milliseconds(200)
    public var eventBufferLimit = 2048
    /// Most answers generated at once; more get a 503.
    public var maxGenerations = 1000
    /// Comment lines sent on idle event streams so proxies and clients keep them open.
    public var keepAliveInterval: Duration = .seconds(15)
    /// How long running generations may finish when the server is asked to stop.
    public var shutdownGrace: Duration = .seconds(10)
    /// `/metrics` and the measurements behind it.
    public var metricsEnabled = true
    /// Swift's tasks run on the event loops (``TasksOnEventLoops``) rather than on Swift's cooperative pool.
    public var tasksOnEventLoops = false
    /// The bearer token `/metrics` asks for; open when nil.
    public var metricsToken: String?
    public var logLevel: Logger.Level = .info
    /// `text` (one readable line per entry) or `json` (one JSON object per line, for log collectors).
    public var logFormat: LogFormat = .text

    /// How log entries are written.
    public enum LogFormat: String, Sendable, CaseIterable {
        case text, json
    }
    /// How long a replica holds a generation without renewing its lease; renewed every third of it.
    public var generationLease: Duration = .seconds(15)
    /// Longest a single database call may take before the request fails with a 503.
    public var databaseTimeout: Duration = .seconds(5)
    /// How long start-up waits for an unreachable database before giving up.
    public var databaseStartupWait: Duration = .seconds(30)

    /// Extra host names requests may name (`nil`: none beyond `localhost` and the listen address).
    public var allowedHosts: AllowedHosts?
    /// The host names answered to: those set plus `localhost` and the listen address.
    public var effectiveAllowedHosts: AllowedHosts {
        (allowedHosts ?? AllowedHosts(names: [])).addingDefaults(listenHost: host)
    }

    /// The JSON config file these settings were read from, if any.
    public var configFile: String?
    /// A folder the web UI is served from instead of the built-in copy (for working on the UI).
    public var webDirectory: String?

    /// `redis://…`: cache, limits and replica events shared through Redis.
    public var redisURL: String?
    /// What happens to cache and limits while Redis is down.
    public var redisFailure: SharedBackendFailure = .open
    public var cache = CacheSettings()
    public var rateLimits = RateLimitSettings()

    /// Sign-up mode, session expiry, password policy.
    public var accounts = AccountSettings()
    /// scrypt's parameters for new password hashes.
    public var passwordHash = PasswordHasher.Parameters.owasp
    /// Password hashes computed at once.
    public var passwordHashThreads = 2
    /// Failed sign-ins allowed per ``loginWindow`` per account and per client address.
    public var loginFailuresPerWindow = 10
    public var loginWindow: Duration = .seconds(600)
    /// Chats started and questions asked per minute by one client address at published assistants.
    public var visitorTurnsPerMinute = 10
    /// Users come over HTTPS: `Secure` cookies and HSTS.
    public var secureCookies = false
    /// How long security events are kept.
    public var auditRetention: Duration = .seconds(90 * 86_400)
    /// Tokens each user may spend per ``budgetPeriod`` unless an administrator set their own; nil: no budget.
    public var defaultTokenBudget: Int?
    /// The period budgets (users' and keys') count over, in UTC.
    public var budgetPeriod: BudgetPeriod = .day
    /// How long the daily usage roll-up is kept.
    public var usageRetentionDays = 400
    /// Proxies in front of Parley whose `X-Forwarded-For` (and sign-in header) count.
    public var trustedProxies = TrustedProxies()
    /// Single sign-on through an OpenID Connect provider; nil: off.
    public var oidc: OIDCSettings?

    /// A sentence-transformers folder Parley runs itself (`local/<folder name>`); nil: none.
    public var embeddingModelFolder: String?
    /// Threads that run it.
    public var embeddingThreads = max(1, ProcessInfo.processInfo.activeProcessorCount - 1)

    /// Knowledge bases: their embedding model, limits and ingestion.
    public var knowledge = KnowledgeSettings()

    public struct KnowledgeSettings: Sendable {
        /// The embedding model of new bases that name none; nil: full-text search only.
        public var embeddingModel: String?
        /// The model that reorders retrieved passages; nil: the fused order stands.
        public var rerankModel: String?
        public var limits = KnowledgeLimits()
        /// Documents ingested at once by this replica.
        public var ingestionWorkers = 2
        /// Bytes of vector indexes this replica keeps loaded (``VectorIndexCache/Options/memoryCap``).
        public var vectorMemory = 1 << 30
    }

    /// The response cache's backend and bounds.
    public struct CacheSettings: Sendable {
        public var backend: CacheBackend = .memory
        /// How long an answer is kept unless the request says otherwise.
        public var ttl: Duration = .seconds(3600)
        public var maxEntries = 10_000
        public var maxBytes = 256 << 20
        public var maxEntryBytes = 1 << 20
    }

    public enum CacheBackend: String, Sendable {
        case memory, redis, off
    }

    public init() {}

    /// Which database ``databaseURL`` names.
    public enum Database: Equatable {
        case sqlite(path: String)
        case postgres(url: String)
    }

    public func database() throws -> Database {
        let url = databaseURL
        if url.hasPrefix("sqlite://") {
            let path = String(url.dropFirst("sqlite://".count))
            guard !path.isEmpty else { throw ConfigError("the database URL '\(url)' names no file") }
            return .sqlite(path: path)
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") { return .postgres(url: url) }
        if url.contains("://") {
            let scheme = url.components(separatedBy: "://")[0]
            throw ConfigError("database scheme '\(scheme)' is not supported; use sqlite:///path/to/file.db or postgres://…")
        }
        return .sqlite(path: url)
    }

    /// The SQLite file named by ``databaseURL``.
    public func sqlitePath() throws -> String {
        guard case .sqlite(let path) = try database() else {
            throw ConfigError("the database URL does not name a SQLite file")
        }
        return path
    }
}

/// A setting that cannot be used, with a message for the operator.
public struct ConfigError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Sign-in through an OpenID Connect provider (Keycloak, Authentik, Entra ID, Google…): the authorization code
/// flow with PKCE, the ID token checked against the provider's published keys.
public struct OIDCSettings: Sendable, Equatable {
    /// The provider's issuer URL; its discovery document is at `<issuer>/.well-known/openid-configuration`.
    public var issuer: String
    public var clientID: String
    /// For confidential clients; sent to the token endpoint only, never shown.
    public var clientSecret: String?
    public var scopes = "openid email profile"
    /// The sign-in button's words.
    public var buttonLabel = "Single sign-on"
    /// Where the provider sends the browser back; nil: this server's own address as the request names it.
    public var redirectURL: String?

    public init(issuer: String, clientID: String) {
        self.issuer = issuer
        self.clientID = clientID
    }
}

/// Who writes a conversation's title after its first exchange.
public enum TitleWriter: Sendable, Equatable {
    /// The model the conversation talks to.
    case conversationModel
    /// A (small, cheap) model of its own.
    case model(String)
    /// Nobody: the title stays the first line of the first message.
    case off

    /// As the `title_model` setting spells it.
    var setting: String? {
        switch self {
        case .conversationModel: nil
        case .model(let name): name
        case .off: "off"
        }
    }
}
