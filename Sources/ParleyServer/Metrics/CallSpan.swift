import ParleyCore
import Tracing

/// A model call's span while tracing is on (``Traces``): from admission to settlement, so a chat turn's span holds
/// the turn's database writes and upstream attempts, and a `/v1` call's its attempts, whatever cache or fallback
/// answered. Named `chat gpt-4o-mini` (or `embeddings …`) with OpenTelemetry's GenAI attributes: the operation,
/// the model asked for, the tokens used, the outcome, and the time to the first token of a streamed answer. Never
/// the prompt or the answer.
enum CallSpan {
    static func start(operation: String, model: String?) -> (any Span)? {
        guard let span = Traces.start("\(operation) \(model ?? "default")") else { return nil }
        span.attributes["gen_ai.operation.name"] = operation
        if let model { span.attributes["gen_ai.request.model"] = model }
        return span
    }

    static func end(_ span: (any Span)?, model: String, outcome: AnswerOutcome, timeToFirstToken: Duration?,
                    usage: TokenUsage?) {
        guard let span else { return }
        span.updateAttributes { attributes in
            if !model.isEmpty { attributes["gen_ai.response.model"] = model }
            attributes["parley.outcome"] = outcome.rawValue
            if let usage {
                attributes["gen_ai.usage.input_tokens"] = usage.promptTokens
                attributes["gen_ai.usage.output_tokens"] = usage.completionTokens
            }
            if let timeToFirstToken {
                attributes["parley.time_to_first_token_ms"] = Double(timeToFirstToken.wholeMicroseconds) / 1000
            }
        }
        if outcome == .failed {
            span.attributes["error.type"] = "failed"
            span.setStatus(SpanStatus(code: .error))
        }
        span.end()
    }
}
