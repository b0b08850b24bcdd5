/// Errors the domain reports to its callers; the HTTP layer maps each to a status code.
public enum ParleyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A thing the caller named does not exist (or is not theirs).
    case notFound(String)
    /// The request is well-formed but its values are not acceptable.
    case invalid(String)
    /// The request conflicts with the current state (for example stopping a finished message).
    case conflict(String)
    /// A limit was exceeded.
    case tooLarge(String)
    /// A dependency (database, upstream) cannot serve now.
    case unavailable(String)

    public var description: String {
        switch self {
        case .notFound(let message), .invalid(let message), .conflict(let message),
             .tooLarge(let message), .unavailable(let message):
            return message
        }
    }
}
