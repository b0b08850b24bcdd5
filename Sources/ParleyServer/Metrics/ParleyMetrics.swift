import CoreMetrics
import ParleyCore
import Prometheus

/// Turns the metrics on for the process: swift-metrics records into a Prometheus registry, with
/// OpenTelemetry's GenAI buckets where it names them. Called once, by `parley serve`, before the application is
/// built; the registry it returns is what `/metrics` shows (``buildApplication(config:logger:metrics:onServerRunning:)``).
public enum ParleyMetrics {
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = MetricName.durationBuckets
        factory.valueHistogramBuckets = MetricName.valueBuckets
        MetricsSystem.bootstrap(factory)
        return registry
    }
}
