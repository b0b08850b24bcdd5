import ParleyCore

/// The host names Parley answers to (`PARLEY_ALLOWED_HOSTS`), against DNS rebinding: a page on
/// `evil.example` that makes its name resolve to 127.0.0.1 still sends `Host: evil.example`, and is refused.
///
/// An IP address in `Host` is always allowed (rebinding needs a name), and so are `localhost` and the listen
/// address. `*` allows every name, for deployments that check host names in front of Parley.
public struct AllowedHosts: Sendable, Equatable {
    /// Lowercased names without a trailing dot; empty with ``allowsAny``.
    public let names: Set<String>
    public let allowsAny: Bool

    public init(names: [String]) {
        let cleaned = names.map { Self.normalise($0) }.filter { !$0.isEmpty }
        self.allowsAny = cleaned.contains("*")
        self.names = Set(cleaned.filter { $0 != "*" })
    }

    /// These names plus `localhost` and the listen address, which always work.
    public func addingDefaults(listenHost: String) -> AllowedHosts {
        allowsAny ? self : AllowedHosts(names: Array(names) + ["localhost", listenHost])
    }

    /// Whether a request's authority (`Host` header: `name`, `name:port`, `[v6]:port`) may be served.
    public func allows(authority: String) -> Bool {
        if allowsAny { return true }
        let host = Self.host(ofAuthority: authority)
        if host.isEmpty { return false }
        return names.contains(host) || Self.isIPAddress(host)
    }

    static func normalise<Text: StringProtocol>(_ name: Text) -> String {
        var text = name.trimmingSpaces.lowercased()
        if text.hasPrefix("[") && text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        while text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// The host of `name:port` or `[v6]:port`, normalised.
    static func host(ofAuthority authority: String) -> String {
        let text = authority.trimmingSpaces
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return "" }
            return normalise(text[text.index(after: text.startIndex)..<close])
        }
        return normalise(text.prefix { $0 != ":" })
    }

    /// A dotted IPv4 address or an IPv6 address (as written inside brackets).
    static func isIPAddress(_ host: String) -> Bool {
        if host.contains(":") {
            return host.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber)
                && (Int(part) ?? 256) <= 255
        }
    }
}
