import Foundation

/// Why an upstream call failed. Each case reads as a sentence a user can act on.
public enum ProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The upstream answered with an HTTP error status.
    case http(status: Int, message: String, retryAfterSeconds: Double?)
    /// No connection could be made.
    case connect(String)
    /// The upstream sent nothing within the first-token timeout.
    case firstTokenTimeout(seconds: Double)
    /// The upstream went quiet mid-stream for longer than the idle timeout.
    case idleTimeout(seconds: Double)
    /// The stream ended before the upstream said it was done.
    case streamCut(String)
    /// The upstream sent something that is not a valid response.
    case invalidResponse(String)

    public var description: String {
        switch self {
        case .http(let status, let message, let retryAfter):
            var text = "upstream returned HTTP \(status)"
            if !message.isEmpty { text += ": \(message)" }
            if let retryAfter { text += " (retry after \(Self.format(retryAfter)) s)" }
            return text
        case .connect(let detail): return "could not reach the upstream: \(detail)"
        case .firstTokenTimeout(let seconds):
            return "the upstream sent no response within \(Self.format(seconds)) s"
        case .idleTimeout(let seconds):
            return "the upstream stopped sending for more than \(Self.format(seconds)) s"
        case .streamCut(let detail): return "the upstream stream ended early: \(detail)"
        case .invalidResponse(let detail): return "the upstream sent an invalid response: \(detail)"
        }
    }

    /// A short machine-readable kind for error events.
    public var kind: String {
        switch self {
        case .http(let status, _, _): return status == 429 ? "upstream_rate_limited" : "upstream_http_error"
        case .connect: return "upstream_unreachable"
        case .firstTokenTimeout, .idleTimeout: return "upstream_timeout"
        case .streamCut: return "upstream_stream_cut"
        case .invalidResponse: return "upstream_invalid_response"
        }
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.2f", seconds)
    }
}
