import CoreMetrics
import ParleyCore
import ParleyGateway

/// How a model call ended, for the metrics.
enum AnswerOutcome: String, Sendable {
    /// The answer came to its end.
    case completed
    /// Replayed from the response cache, or shared with an identical call in flight.
    case cached
    /// The upstream failed, or no upstream could answer.
    case failed
    /// The client left or the user stopped it (a chat answer keeps what came, marked stopped).
    case stopped
}

/// Records each model call in OpenTelemetry's GenAI metrics (``MetricName/operationDuration``,
/// ``MetricName/timeToFirstToken``, ``MetricName/timePerOutputToken``, ``MetricName/tokenUsage``) and counts
/// answers and refusals. Models are labelled by the names the router knows; any other is `other`.
struct CallMetrics: Sendable {
    let modelLabel: @Sendable (String) -> String

    static let answers = MetricFamily(counter: MetricName.answers, labels: ["model", "outcome"])
    static let durations = MetricFamily(timer: MetricName.operationDuration,
                                        labels: ["gen_ai_operation_name", "gen_ai_request_model", "outcome"])
    static let firstToken = MetricFamily(timer: MetricName.timeToFirstToken, labels: ["gen_ai_request_model"])
    static let perToken = MetricFamily(timer: MetricName.timePerOutputToken, labels: ["gen_ai_request_model"])
    static let tokens = MetricFamily(histogram: MetricName.tokenUsage, labels: ["gen_ai_request_model", "gen_ai_token_type"])
    static let refusals = MetricFamily(counter: MetricName.limitRefusals, labels: ["limit"])

    func record(operation: String, model: String, outcome: AnswerOutcome, started: ContinuousClock.Instant,
                timeToFirstToken: Duration?, usage: TokenUsage?) {
        let model = modelLabel(model)
        Self.answers(model, outcome.rawValue).increment()
        Self.durations(operation, model, outcome.rawValue).recordSince(started)
        guard outcome != .cached else { return }
        if let timeToFirstToken {
            Self.firstToken(model).recordNanoseconds(timeToFirstToken.wholeNanoseconds)
            if let output = usage?.completionTokens, output > 1, outcome == .completed {
                let perToken = ((ContinuousClock.now - started) - timeToFirstToken) / (output - 1)
                Self.perToken(model).recordNanoseconds(max(0, perToken.wholeNanoseconds))
            }
        }
        if let usage {
            for (type, tokens) in [("input", usage.promptTokens), ("output", usage.completionTokens)] where tokens > 0 {
                Self.tokens(model, type).record(tokens)
            }
        }
    }

    /// A call refused by a limit or a budget (`limit`: ``LimitRefusal/limitKind`` or `budget`).
    func refused(_ limit: String) {
        Self.refusals(limit).increment()
    }
}
