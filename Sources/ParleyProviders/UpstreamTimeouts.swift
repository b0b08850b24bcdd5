/// Time limits for calls to an upstream model server.
public struct UpstreamTimeouts: Sendable, Equatable {
    /// Establishing the TCP (and TLS) connection.
    public var connect: Duration
    /// From sending the request to the first event of the answer.
    public var firstToken: Duration
    /// The longest silence allowed between two events of a streaming answer.
    public var idle: Duration
    /// The whole call, end to end.
    public var total: Duration

    public init(connect: Duration = .seconds(10), firstToken: Duration = .seconds(60), idle: Duration = .seconds(30),
                total: Duration = .seconds(600)) {
        self.connect = connect
        self.firstToken = firstToken
        self.idle = idle
        self.total = total
    }
}
