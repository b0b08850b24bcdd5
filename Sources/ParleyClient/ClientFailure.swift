import Foundation

/// Why a client command failed, said in one line for the terminal (never a stack trace, never the key).
public struct ClientFailure: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The server could not be reached (refused, timed out, the connection closed).
        case unreachable
        /// The server answered with this error status.
        case status(Int)
        case other
    }

    public let description: String
    public let kind: Kind

    public init(_ description: String, kind: Kind = .other) {
        self.description = description
        self.kind = kind
    }

    /// Worth trying again shortly: the server unreachable, or answering 502, 503 or 504 (restarting, shutting
    /// down, behind a balancer with no replica ready).
    public var isPassing: Bool {
        switch kind {
        case .unreachable: true
        case .status(let status): [502, 503, 504].contains(status)
        case .other: false
        }
    }

    /// The server answered with an error: its status and message (Parley's errors are JSON with one).
    static func http(_ status: Int, body: String, url: String) -> ClientFailure {
        let message = ErrorBody.message(in: body) ?? String(body.prefix(200))
        let text = switch status {
        case 401: "\(url) refused the key (401): \(message). Set PARLEY_API_KEY or run `parley login`."
        case 403: "not allowed (403): \(message)"
        case 404: "not found (404): \(message)"
        default: "the server answered \(status): \(message)"
        }
        return ClientFailure(text, kind: .status(status))
    }
}

/// Parley's error shape, `{"error": {"type": …, "message": …}}`.
struct ErrorBody: Decodable {
    struct Detail: Decodable {
        var type: String?
        var message: String?
    }
    var error: Detail

    static func message(in body: String) -> String? {
        try? JSONDecoder().decode(ErrorBody.self, from: Data(body.utf8)).error.message
    }
}
