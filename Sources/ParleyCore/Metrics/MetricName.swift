import CoreMetrics

/// The names of Parley's metrics, in Prometheus spelling (`/metrics`; the README lists them with their labels).
/// Every label value comes from a bounded set — a route's pattern, a configured model or deployment, an
/// outcome — never from a user, a key or a name a client made up, so the number of series stays bounded.
/// The library code records through swift-metrics (`CoreMetrics`); `parley serve` bootstraps the Prometheus
/// factory, and without it (the tests, the benchmark's in-process servers) the records go nowhere.
public enum MetricName {
    // HTTP
    /// Histogram: seconds until the response's head, by `route`, `method`, `status` (`2xx`…).
    public static let httpDuration = "http_server_request_duration_seconds"
    /// Gauge: requests being handled.
    public static let httpActive = "http_server_active_requests"

    // Model calls (OpenTelemetry's GenAI names and buckets)
    /// Counter: answers by `model` and `outcome` (`completed`, `cached`, `failed`, `stopped`).
    public static let answers = "parley_answers_total"
    /// Histogram: seconds a model call took, by `gen_ai_operation_name`, `gen_ai_request_model`, `outcome`.
    public static let operationDuration = "gen_ai_client_operation_duration_seconds"
    /// Histogram: seconds until the first token, by `gen_ai_request_model`.
    public static let timeToFirstToken = "gen_ai_server_time_to_first_token_seconds"
    /// Histogram: seconds per output token after the first, by `gen_ai_request_model`.
    public static let timePerOutputToken = "gen_ai_server_time_per_output_token_seconds"
    /// Histogram: tokens per call, by `gen_ai_request_model` and `gen_ai_token_type` (`input`, `output`).
    public static let tokenUsage = "gen_ai_client_token_usage"

    // Upstreams
    /// Counter: calls to a deployment by `deployment` and `outcome` (`ok`, `rate_limited`, `timeout`, `http_5xx`…).
    public static let upstreamAttempts = "parley_upstream_attempts_total"
    /// Counter: answers given by a fallback model, by `model` (asked for) and `fallback` (answered).
    public static let upstreamFallbacks = "parley_upstream_fallbacks_total"
    /// Gauge: circuit breaker by `deployment`: 0 closed, 1 half-open, 2 open.
    public static let breakerState = "parley_upstream_breaker_state"
    /// Gauge: calls in flight by `deployment`.
    public static let upstreamInFlight = "parley_upstream_in_flight"

    // Cache and limits
    /// Counter: response-cache lookups by `result` (`hit`, `miss`, `coalesced`, `bypass`).
    public static let cacheLookups = "parley_cache_lookups_total"
    /// Counter: texts looked up in the embedding cache of knowledge bases, by `result` (`hit`, `miss`).
    public static let embeddingCacheLookups = "parley_knowledge_embedding_cache_total"
    /// Gauges: the in-memory response cache's entries and bytes.
    public static let cacheEntries = "parley_cache_entries"
    public static let cacheBytes = "parley_cache_bytes"
    /// Counter: calls refused by `limit` (`requests`, `tokens`, `concurrency`, `budget`, `too_large`).
    public static let limitRefusals = "parley_limit_refusals_total"

    // Generations and streams
    /// Gauge: answers being generated on this replica.
    public static let generationsRunning = "parley_generations_running"
    /// Gauge: answer streams (SSE) open on this replica.
    public static let streamsOpen = "parley_streams_open"
    /// Counter: event-bus notices this replica received (its own included): answers finished or stopped, sign-outs.
    public static let busNotices = "parley_event_bus_notices_received_total"

    // Database and Redis
    /// Histogram: seconds per database call, by `outcome` (`ok`, `error`, `timeout`).
    public static let databaseCallDuration = "parley_database_call_duration_seconds"
    /// Gauge: database calls running or waiting for a connection (the pool in use plus its waiters).
    public static let databaseCallsInFlight = "parley_database_calls_in_flight"
    /// Gauge: 1 while the database answers its health checks.
    public static let databaseAvailable = "parley_database_available"
    /// Gauge: 1 while Redis answers (when configured).
    public static let redisAvailable = "parley_redis_available"
    /// Counter: cache and limiter calls served by this replica's memory because Redis was down.
    public static let redisFallbacks = "parley_redis_fallbacks_total"

    // Process
    public static let residentMemory = "process_resident_memory_bytes"
    public static let virtualMemory = "process_virtual_memory_bytes"
    public static let cpuSeconds = "process_cpu_seconds_total"
    public static let openDescriptors = "process_open_fds"
    public static let maxDescriptors = "process_max_fds"
    public static let startTime = "process_start_time_seconds"

    /// `2xx`, `4xx`… for an HTTP status.
    public static func statusClass(_ status: Int) -> String {
        switch status {
        case 100..<200: "1xx"
        case 200..<300: "2xx"
        case 300..<400: "3xx"
        case 400..<500: "4xx"
        default: "5xx"
        }
    }

    /// OpenTelemetry's GenAI buckets, by metric (the rest use the factory's defaults).
    public static let durationBuckets: [String: [Duration]] = [
        timeToFirstToken: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10].seconds,
        timePerOutputToken: [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5].seconds,
        operationDuration: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92].seconds,
        httpDuration: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10].seconds,
        databaseCallDuration: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5].seconds,
    ]
    public static let valueBuckets: [String: [Double]] = [
        tokenUsage: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864],
    ]
}

private extension [Double] {
    var seconds: [Duration] { map { Duration.seconds($0) } }
}

extension Timer {
    /// Records the time since `start`.
    public func recordSince(_ start: ContinuousClock.Instant) {
        recordNanoseconds((ContinuousClock.now - start).wholeNanoseconds)
    }
}
