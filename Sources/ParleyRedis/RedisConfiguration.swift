/// Where and how to reach Redis, usually read from a `redis://` URL.
public struct RedisConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// Redis 6 ACL user; `nil` authenticates as `default` (or not at all without a password).
    public var username: String?
    public var password: String?
    public var database: Int
    /// Connections kept open. Commands are pipelined on each, so a few serve many concurrent callers.
    public var poolSize: Int
    /// Longest wait for a reply; past it the connection is closed and the call fails.
    public var commandTimeout: Duration
    public var connectTimeout: Duration
    /// After a failed connect, calls fail at once for this long instead of each waiting on a dead server.
    public var reconnectBackoff: Duration

    public init(host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil,
                database: Int = 0, poolSize: Int = 4, commandTimeout: Duration = .milliseconds(500),
                connectTimeout: Duration = .milliseconds(500), reconnectBackoff: Duration = .milliseconds(250)) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.poolSize = poolSize
        self.commandTimeout = commandTimeout
        self.connectTimeout = connectTimeout
        self.reconnectBackoff = reconnectBackoff
    }

    /// Reads `redis://[[user]:password@]host[:port][/database]`.
    public init(url: String) throws {
        self.init()
        guard url.hasPrefix("redis://") else {
            if url.hasPrefix("rediss://") {
                throw RedisError.unavailable("TLS (rediss://) is not supported; reach Redis over a private network or a TLS tunnel")
            }
            throw RedisError.unavailable("a Redis URL starts with redis://")
        }
        var rest = Substring(url.dropFirst("redis://".count))
        if let query = rest.firstIndex(of: "?") { rest = rest[..<query] }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = String(credentials[..<colon]).removingPercentEncodingIfPossible
                username = user.isEmpty ? nil : user
                password = String(credentials[credentials.index(after: colon)...]).removingPercentEncodingIfPossible
            } else if !credentials.isEmpty {
                password = String(credentials).removingPercentEncodingIfPossible
            }
        }
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let number = Int(path), number >= 0 else {
                    throw RedisError.unavailable("the database in a Redis URL is a number, got '\(path)'")
                }
                database = number
            }
        }
        if rest.hasPrefix("[") , let close = rest.firstIndex(of: "]") {
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            rest = rest[rest.index(after: close)...]
            if rest.hasPrefix(":") { rest = rest.dropFirst() } else { rest = "" }
            if !rest.isEmpty { port = try Self.port(rest) }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            port = try Self.port(rest[rest.index(after: colon)...])
        } else if !rest.isEmpty {
            host = String(rest)
        }
        if host.isEmpty { host = "127.0.0.1" }
    }

    private static func port(_ text: Substring) throws -> Int {
        guard let port = Int(text), (1...65_535).contains(port) else {
            throw RedisError.unavailable("the port in a Redis URL is a number from 1 to 65535, got '\(text)'")
        }
        return port
    }

    /// The address without credentials, for logs.
    public var redacted: String { "redis://\(host):\(port)/\(database)" }
}

extension String {
    /// Decodes `%XX` escapes (passwords with `@` or `:` in URLs); leaves the text as it is when malformed.
    var removingPercentEncodingIfPossible: String {
        guard contains("%") else { return self }
        var bytes: [UInt8] = []
        var iterator = utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
               let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else if byte == UInt8(ascii: "%") {
                return self
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
