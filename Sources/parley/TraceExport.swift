import ArgumentParser
import Logging
import OTel
import ParleyCore
import ServiceLifecycle
import Tracing

/// OpenTelemetry traces for `parley serve`: exported over OTLP/HTTP (protobuf) when `OTEL_EXPORTER_OTLP_ENDPOINT`
/// or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, and configured by the other standard `OTEL_*` variables
/// (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, `OTEL_EXPORTER_OTLP_HEADERS`, …).
/// Off otherwise, and with `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`: then no tracer is installed and
/// Parley's span sites cost nothing (``Traces``). Only traces: metrics are Prometheus's (`/metrics`), logs stderr's.
enum TraceExport {
    /// Installs the tracer and returns the service that batches and sends the spans (run it in the service group,
    /// before the application, so that it flushes after the application stopped), or nil when tracing is off.
    static func bootstrap(environment: [String: String], logger: Logger) throws -> (any Service)? {
        func isSet(_ name: String) -> Bool { !(environment[name] ?? "").isEmpty }
        guard isSet("OTEL_EXPORTER_OTLP_ENDPOINT") || isSet("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
              environment["OTEL_SDK_DISABLED"]?.lowercased() != "true",
              environment["OTEL_TRACES_EXPORTER"]?.lowercased() != "none" else { return nil }
        if let exporter = environment["OTEL_TRACES_EXPORTER"], !["", "otlp"].contains(exporter.lowercased()) {
            throw ValidationError("OTEL_TRACES_EXPORTER=\(exporter) is not supported: Parley exports traces over OTLP (otlp) or not at all (none)")
        }
        let transport = environment["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["OTEL_EXPORTER_OTLP_PROTOCOL"] ?? ""
        guard ["", "http/protobuf", "http/json"].contains(transport.lowercased()) else {
            throw ValidationError("OTLP over \(transport) is not supported: Parley exports traces over OTLP/HTTP "
                                  + "(http/protobuf, the default, or http/json; a collector listens for it on port 4318)")
        }
        var configuration = OTel.Configuration.default
        configuration.serviceName = "parley"
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        configuration.diagnosticLogger = .custom(logger)
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        InstrumentationSystem.bootstrap(backend.factory)
        Traces.enable()
        logger.info("exporting traces over OTLP/HTTP", metadata: [
            "endpoint": .string(environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] ?? environment["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? ""),
        ])
        return backend.service
    }
}
