// swift-tools-version:6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The web UI's files, embedded in the binary (`PackageResources`) and served by `WebRoutes`.
let webAssets = [
    "index.html", "app.css", "icon.svg",
    "app.js", "api.js", "dom.js", "markdown.js", "sidebar.js", "chat.js", "message-view.js", "scroll-keeper.js",
    "settings.js", "export.js", "auth.js", "account.js", "usage.js", "admin.js", "knowledge.js", "citations.js", "attachments.js", "maths.js", "assistants.js",
    "visitor.html", "visitor.js", "visitor.css", "widget.js", "shortcuts.js", "prompts.js", "shared.html", "shared.js", "share.js", "highlight.js", "public-sources.js",
]

/// Tests import what they use; member-import checking adds noise there without catching mistakes.
let testSettings: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "parley",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "parley", targets: ["parley"]),
        .library(name: "ParleyCore", targets: ["ParleyCore"]),
        .library(name: "ParleyServer", targets: ["ParleyServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // Only the OTLP/HTTP exporter: the gRPC one would bring gRPC and HTTP/2 into the build.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
    ],
    targets: [
        // Domain: conversations, messages, generation jobs, context budget. No HTTP framework.
        .target(
            name: "ParleyCore",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strict
        ),
        // Model providers: OpenAI-compatible upstreams, the demo model, the built-in embedding model, the SSE decoder.
        .target(
            name: "ParleyProviders",
            dependencies: [
                "ParleyCore", "ParleyGateway", "ParleyEmbedding",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // The OpenAI-compatible gateway's own parts, below the providers: the request model, strict and canonical
        // JSON, cache controls and plans, coalescing of identical calls, response caches, rate limits, and failover
        // to memory while a shared backend (Redis, which implements these protocols) is down.
        .target(
            name: "ParleyGateway",
            dependencies: [
                "ParleyCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // Accounts: users and roles, passwords (scrypt on its own bounded threads, a policy with the common
        // passwords refused), sessions, API keys, time-based one-time codes (HummingbirdOTP's TOTP, which
        // needs only Crypto), OpenID Connect ID tokens (jwt-kit checks signatures against the provider's keys),
        // usage and budgets, and the store protocol the databases implement. No HTTP.
        .target(
            name: "ParleyAccounts",
            dependencies: [
                "ParleyCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            exclude: ["Resources/README.md"],
            resources: [.embedInCode("Resources/common-passwords.txt")],
            swiftSettings: strict
        ),
        // Persistence: SQLite (GRDB) and PostgreSQL (PostgresNIO) stores and their migrations.
        .target(
            name: "ParleyStore",
            dependencies: [
                "ParleyCore", "ParleyAccounts", "ParleyRetrieval", "CParleyFullText", "CParleySQLite",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strict
        ),
        // FTS5's bm25 with each word's passage count given instead of counted per query (`parley_bm25`), in C because
        // FTS5 takes ranking functions only through its C API. Links the system SQLite, as GRDB does.
        .target(
            name: "CParleyFullText",
            linkerSettings: [.linkedLibrary("sqlite3")]
        ),
        // SQLite's C API for the store's direct calls, and process-wide settings that only `sqlite3_config` sets (a C
        // function of variable arguments, which Swift cannot call).
        .target(
            name: "CParleySQLite",
            linkerSettings: [.linkedLibrary("sqlite3")]
        ),
        // Redis: a small RESP client on SwiftNIO (pool, pipelining, scripts, pub/sub) and the Redis response
        // cache, rate limiter and event bus.
        .target(
            name: "ParleyRedis",
            dependencies: [
                "ParleyCore", "ParleyGateway",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The mock OpenAI-compatible model server (`parley mock-llm`): stands in for a paid model provider in
        // tests, the benchmark, and for anyone trying Parley without a model.
        .target(
            name: "ParleyMockLLM",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // What tests and the benchmark use to start real servers: child processes, a throwaway PostgreSQL and
        // Redis, servers in the background of the test process, fixture replay. Never linked into `parley`.
        .target(
            name: "ParleyTestSupport",
            dependencies: [
                "ParleyMockLLM",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // HTTP: routes, SSE, configuration, application assembly, and the web UI (plain JavaScript modules, CSS
        // and HTML in Web/, compiled into the binary).
        .target(
            name: "ParleyServer",
            dependencies: [
                "ParleyCore", "ParleyGateway", "ParleyProviders", "ParleyStore", "ParleyRedis", "ParleyAccounts", "ParleyRetrieval",
                "ParleyEmbedding", "ParleyImport", "CParleyGlobalJobs",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            resources: webAssets.map { .embedInCode("Web/\($0)") },
            swiftSettings: strict
        ),
        // Imports of other chat apps' exports (ChatGPT, Open WebUI, LibreChat), read as a stream. No HTTP framework.
        .target(
            name: "ParleyImport",
            dependencies: ["ParleyCore"],
            swiftSettings: strict
        ),
        // Knowledge bases: documents' structure, chunking, the vector indexes (exact and HNSW), rank fusion, the
        // store protocol the databases implement, durable ingestion and hybrid search. No HTTP framework. Optimised
        // even in debug builds: the graph index is built from hundreds of thousands of vectors in its tests, which
        // unoptimised code would take minutes for.
        .target(
            name: "ParleyRetrieval",
            dependencies: [
                "ParleyCore", "CParleyVectors",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict + [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        // The Swift runtime's global-executor hook, set from C so that it links with the runtime static or shared:
        // `parley serve` hands Swift's jobs to the event loops with it (``TasksOnEventLoops``).
        .target(name: "CParleyGlobalJobs"),
        // The int8 dot products of the exact vector scan, in C: the package is built for the baseline processor, and
        // C's `target` attributes let one binary use AVX2 or AVX-512 VNNI where the processor has them. Optimised
        // even in debug builds, for the same reason as ParleyRetrieval.
        .target(
            name: "CParleyVectors",
            cSettings: [.unsafeFlags(["-O2"], .when(configuration: .debug))]
        ),
        // The built-in sentence-embedding model: a sentence-transformers BERT folder (safetensors weights mapped, not
        // read, at start), BERT's WordPiece tokenizer, the encoder's forward pass with the system's BLAS (loaded when
        // first used), pooling, and a bounded, batching queue on threads of its own. No HTTP. Optimised even in
        // debug builds: the parity tests run hundreds of sentences through it.
        .target(
            name: "ParleyEmbedding",
            dependencies: [
                "ParleyCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict + [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        // The terminal client (`parley ask`, `parley conversations`, …): a Parley server's REST API over
        // AsyncHTTPClient, answers streamed and reattached, the keys `parley login` stores. No server code.
        .target(
            name: "ParleyClient",
            dependencies: [
                "ParleyCore", "ParleyProviders",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "parley",
            dependencies: [
                "ParleyServer", "ParleyMockLLM", "ParleyStore", "ParleyClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "parley-bench",
            dependencies: [
                "ParleyProviders", "ParleyGateway", "ParleyMockLLM", "ParleyTestSupport", "ParleyStore", "ParleyCore", "ParleyRedis",
                "ParleyRetrieval",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            path: "bench/Sources/parley-bench",
            swiftSettings: strict
        ),
        .testTarget(name: "ParleyCoreTests", dependencies: ["ParleyCore"], swiftSettings: testSettings),
        .testTarget(name: "ParleyAccountsTests", dependencies: ["ParleyAccounts", "ParleyCore"], swiftSettings: testSettings),
        .testTarget(name: "ParleyGatewayTests", dependencies: ["ParleyGateway", "ParleyCore"], swiftSettings: testSettings),
        .testTarget(name: "ParleyClientTests", dependencies: ["ParleyClient"], swiftSettings: testSettings),
        .testTarget(name: "ParleyEmbeddingTests", dependencies: ["ParleyEmbedding", "ParleyTestSupport"], swiftSettings: testSettings),
        .testTarget(name: "ParleyImportTests", dependencies: ["ParleyImport", "ParleyCore", "ParleyStore"],
                    swiftSettings: testSettings),
        .testTarget(name: "ParleyRetrievalTests", dependencies: [
            "ParleyRetrieval", "CParleyVectors", "ParleyCore", .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ], swiftSettings: testSettings),
        .testTarget(
            name: "ParleyProvidersTests",
            dependencies: [
                "ParleyProviders", "ParleyGateway", "ParleyMockLLM", "ParleyTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "ParleyRedisTests",
            dependencies: [
                "ParleyRedis", "ParleyGateway", "ParleyCore", "ParleyMockLLM", "ParleyTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "ParleyStoreTests",
            dependencies: [
                "ParleyStore", "ParleyAccounts", "ParleyCore", "ParleyRetrieval", "ParleyMockLLM", "ParleyTestSupport", "CParleyFullText",
                "CParleySQLite",
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "ParleyServerTests",
            dependencies: [
                "ParleyServer", "ParleyMockLLM", "ParleyTestSupport", "ParleyProviders", "ParleyCore", "ParleyStore", "ParleyRedis", "ParleyGateway",
                "ParleyAccounts",
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: testSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets for the parsers that read untrusted bytes (fuzz/run.sh builds them with
// `-sanitize=fuzzer,address` into .build-fuzz and runs each for a fixed time). They exist only when PARLEY_FUZZ
// is set: their `main` hands over to libFuzzer's driver, which only that build links.
if Context.environment["PARLEY_FUZZ"] != nil {
    let fuzzTargets: [(String, [Target.Dependency])] = [
        ("FuzzJSON", ["ParleyGateway", "ParleyProviders"]),
        ("FuzzSSE", ["ParleyProviders"]),
        ("FuzzRESP", ["ParleyRedis", "ParleyGateway", .product(name: "NIOCore", package: "swift-nio")]),
        ("FuzzClientNumbers", ["ParleyCore"]),
        ("FuzzDocuments", ["ParleyRetrieval"]),
    ]
    package.targets.append(.target(name: "FuzzSupport", path: "fuzz/Sources/FuzzSupport", swiftSettings: testSettings))
    for (name, dependencies) in fuzzTargets {
        package.targets.append(.executableTarget(
            name: name, dependencies: dependencies + ["FuzzSupport"], path: "fuzz/Sources/\(name)", swiftSettings: testSettings))
    }
}
