/// A client's W3C Trace Context (`traceparent`, and `tracestate` with it), carried through the tasks a request
/// causes — a task-local, which the generation job's task inherits too — so that, while Parley records no spans of
/// its own (``Traces``), the upstream calls it makes still carry the client's trace and a model server's spans join it.
public struct TraceParent: Sendable, Equatable {
    public static let headerName = "traceparent"
    public static let stateHeaderName = "tracestate"

    /// The header as received (`00-<trace id>-<parent id>-<flags>`).
    public let value: String
    /// `tracestate`, passed on with it when sane.
    public let state: String?

    /// The request's trace context, when its client sent one.
    @TaskLocal public static var current: TraceParent?

    /// A valid version-00 `traceparent`: 32 and 16 lowercase hex digits, neither all zeros, and 2 for the flags.
    public init?(header: String?, state: String? = nil) {
        guard let header else { return nil }
        let parts = header.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "00", parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
              parts.allSatisfy({ $0.utf8.allSatisfy(Self.isLowerHex) }),
              parts[1].contains(where: { $0 != "0" }), parts[2].contains(where: { $0 != "0" }) else { return nil }
        value = header
        self.state = state.flatMap { $0.utf8.count <= 512 && $0.utf8.allSatisfy { (0x20...0x7e).contains($0) } ? $0 : nil }
    }

    /// The trace id, for the logs.
    public var traceID: Substring { value.split(separator: "-")[1] }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}
