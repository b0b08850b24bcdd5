/// Why a Redis call failed.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No connection could be made (refused, unreachable, AUTH failed), or the client is between reconnect
    /// attempts after such a failure.
    case unavailable(String)
    /// The command got no reply within the command timeout; its connection is closed.
    case timeout
    /// The connection closed before the reply arrived.
    case connectionClosed
    /// Redis answered with an error reply.
    case server(String)
    /// The bytes on the wire are not RESP.
    case protocolViolation(String)
    /// The reply is not of the shape the command promises.
    case unexpectedReply(String)

    public var description: String {
        switch self {
        case .unavailable(let detail): return "Redis is unavailable: \(detail)"
        case .timeout: return "Redis did not answer in time"
        case .connectionClosed: return "the Redis connection closed"
        case .server(let message): return "Redis error: \(message)"
        case .protocolViolation(let detail): return "Redis protocol violation: \(detail)"
        case .unexpectedReply(let detail): return "unexpected Redis reply: \(detail)"
        }
    }

    /// True when the server answered and the command itself was refused; false for transport failures.
    public var isServerReply: Bool {
        if case .server = self { return true }
        return false
    }
}
