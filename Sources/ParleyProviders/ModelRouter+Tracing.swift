import Foundation
import ParleyCore
import Tracing

/// Each upstream attempt is a client span while tracing is on (``Traces``), in OpenTelemetry's GenAI conventions:
/// `chat gpt-4o-mini` with `gen_ai.operation.name`, `gen_ai.provider.name`, `gen_ai.request.model` (the upstream's
/// name for it), the upstream's address, the deployment and the attempt's number; a failed attempt has `error.type`
/// set to the outcome the metrics count (`rate_limited`, `timeout`, `5xx`, …) and the upstream's status. The
/// upstream call carries this span in `traceparent`.
extension ModelRouter {
    func attemptSpan(_ deployment: Deployment, operation: String, model: String, attempt: Int) -> (any Span)? {
        guard let span = Traces.start("\(operation) \(deployment.upstreamModel)", kind: .client) else { return nil }
        span.updateAttributes { attributes in
            attributes["gen_ai.operation.name"] = operation
            attributes["gen_ai.provider.name"] = deployment.backend.kind
            attributes["gen_ai.request.model"] = deployment.upstreamModel
            attributes["parley.model"] = model
            attributes["parley.deployment"] = deployment.id
            attributes["parley.attempt"] = attempt
            if let base = upstreams.first(where: { $0.config.name == deployment.upstream })?.config.baseURL,
               let url = URLComponents(string: base), let host = url.host {
                attributes["server.address"] = host
                if let port = url.port { attributes["server.port"] = port }
            }
        }
        return span
    }

    func endAttemptSpan(_ span: (any Span)?, failure: (any Error)?) {
        guard let span else { return }
        if let failure {
            Traces.failed(span, failure, type: failure is CancellationError ? nil : Self.attemptOutcome(failure))
            if case .http(let status, _, _)? = failure as? ProviderError { span.attributes["http.response.status_code"] = status }
        }
        span.end()
    }
}
