import Hummingbird
import NIOCore
import ParleyAccounts
import ParleyCore
import Synchronization

/// The request context of Parley's routes: Hummingbird's basics plus the client's address, which decides
/// whether `/v1` may be used without an API key (only from loopback), and who is calling, for limits and
/// the cache's namespace.
public struct ParleyRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// Who limits and the cache count this request against once it is authenticated: `user:` and the user's
    /// id, or `key:` and a digest of a service key (never the key).
    public var principal: String?
    /// Whose data this request reads and writes: the signed-in user (``UserID/local`` never reaches the routes
    /// that read data, which all require an account).
    public var owner: UserID = .local
    /// The signed-in user and the credential they used.
    public var account: Principal?
    /// The client's connection, for streams that must stop as soon as it goes.
    public let channel: any Channel
    /// Where the signed-in user's streams are tracked, so a sign-out closes them.
    var openStreams: OpenStreams?
    /// The request's id and what the access log reports of it.
    var trace: RequestTrace?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.channel = source.channel
    }

    /// Acts as `principal`'s user from here on.
    mutating func signIn(_ principal: Principal, streams: OpenStreams) {
        account = principal
        openStreams = streams
        trace?.user.withLock { $0 = principal.user.id.rawValue }
        owner = principal.user.id
        self.principal = "user:" + principal.user.id.rawValue
    }

    /// True when the client connected from this machine.
    public var isLoopback: Bool {
        guard let remoteAddress else { return false }
        if case .unixDomainSocket = remoteAddress { return true }
        guard let ip = remoteAddress.ipAddress else { return false }
        return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }

    /// Who limits and the cache count this request against: the API key, else the client's address.
    public var caller: String {
        if let principal { return principal }
        return "ip:" + (remoteAddress?.ipAddress ?? "unknown")
    }
}
