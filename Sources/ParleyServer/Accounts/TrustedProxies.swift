import Foundation
import ParleyCore
#if canImport(Glibc)
import Glibc
#endif

/// An address range: `10.0.0.0/8`, `fd00::/8`, or one address (`127.0.0.1`, `::1`).
public struct AddressRange: Sendable, Equatable, CustomStringConvertible {
    let network: [UInt8]
    let prefixLength: Int

    /// Parses `address[/bits]`; nil when it is not an IPv4 or IPv6 range.
    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let bytes = Self.bytes(of: first) else { return nil }
        var length = bytes.count * 8
        if parts.count == 2 {
            guard let bits = Int(parts[1]), (0...length).contains(bits) else { return nil }
            length = bits
        }
        network = bytes
        prefixLength = length
    }

    /// True when `address` (textual IPv4 or IPv6; IPv4-mapped IPv6 counts as IPv4) is in the range.
    public func contains(_ address: String) -> Bool {
        guard var candidate = Self.bytes(of: address) else { return false }
        if candidate.count == 16, network.count == 4, candidate.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] {
            candidate = Array(candidate.suffix(4))
        }
        guard candidate.count == network.count else { return false }
        var remaining = prefixLength
        for index in network.indices where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            guard candidate[index] & mask == network[index] & mask else { return false }
            remaining -= bits
        }
        return true
    }

    public var description: String {
        let family = network.count == 4 ? AF_INET : AF_INET6
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = network.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/\(prefixLength)"
    }

    /// The address's bytes: 4 for IPv4, 16 for IPv6.
    static func bytes(of text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

/// Proxies whose word Parley takes: who the user is (``header``, set by oauth2-proxy, Authelia and the like)
/// and which address the request came from (`X-Forwarded-For`). Requests from anywhere else carrying these
/// headers are treated as if they did not.
public struct TrustedProxies: Sendable {
    public var ranges: [AddressRange]
    /// The header naming the signed-in user's email (`X-Forwarded-Email`); nil: proxies do not sign users in.
    public var header: String?

    public init(ranges: [AddressRange] = [], header: String? = nil) {
        self.ranges = ranges
        self.header = header
    }

    public func trusts(_ address: String?) -> Bool {
        guard let address else { return false }
        return ranges.contains { $0.contains(address) }
    }

    /// The client's address: the peer's, or, when the peer is a trusted proxy, the nearest address in
    /// `X-Forwarded-For` that is not one of ours.
    public func clientAddress(peer: String?, forwardedFor: String?) -> String {
        guard let peer else { return "unknown" }
        guard trusts(peer), let forwardedFor else { return peer }
        let hops = forwardedFor.split(separator: ",").map { String($0.trimmingSpaces) }
        for hop in hops.reversed() where !trusts(hop) {
            return AddressRange.bytes(of: hop) == nil ? peer : hop
        }
        return hops.first.flatMap { AddressRange.bytes(of: $0) == nil ? nil : $0 } ?? peer
    }
}
