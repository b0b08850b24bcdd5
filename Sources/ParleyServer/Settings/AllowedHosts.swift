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

    /// The host of `name:port` or `[v6]:port`, normalised. Read as bytes: it runs for every request.
    static func host(ofAuthority authority: String) -> String {
        var authority = authority
        return authority.withUTF8 { whole in
            let bytes = whole.trimmingSpaces
            if bytes.first == UInt8(ascii: "[") {
                guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return "" }
                return normalise(UnsafeBufferPointer(rebasing: bytes[1..<close]))
            }
            let colon = bytes.firstIndex(of: UInt8(ascii: ":")) ?? bytes.count
            return normalise(UnsafeBufferPointer(rebasing: bytes[..<colon]))
        }
    }

    /// ``normalise(_:)`` of UTF-8 bytes, without making a string on the way for a plain ASCII name.
    private static func normalise(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return normalise(String(decoding: bytes, as: UTF8.self)) }
        let bytes = bytes.trimmingSpaces
        var start = 0, end = bytes.count
        if end - start >= 2, bytes[start] == UInt8(ascii: "["), bytes[end - 1] == UInt8(ascii: "]") {
            start += 1
            end -= 1
        }
        while end > start, bytes[end - 1] == UInt8(ascii: ".") { end -= 1 }
        return String(unsafeUninitializedCapacity: end - start) { output in
            for index in start..<end { output[index - start] = bytes[index].asciiLowercased }
            return end - start
        }
    }

    /// A dotted IPv4 address (each part up to three digits, at most 255) or an IPv6 address (as written inside
    /// brackets: hex digits, colons and dots).
    static func isIPAddress(_ host: String) -> Bool {
        let bytes = host.utf8
        if bytes.contains(UInt8(ascii: ":")) {
            return bytes.allSatisfy { byte in
                Byte.isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
                    || byte == UInt8(ascii: ":") || byte == UInt8(ascii: ".")
            }
        }
        var dots = 0, digits = 0, value = 0
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard digits > 0 else { return false }
                dots += 1
                digits = 0
                value = 0
            } else if Byte.isDigit(byte) {
                digits += 1
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                guard digits <= 3, value <= 255 else { return false }
            } else {
                return false
            }
        }
        return dots == 3 && digits > 0
    }

    private enum Byte {
        static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    }
}
