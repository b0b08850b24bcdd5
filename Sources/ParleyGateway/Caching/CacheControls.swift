import Foundation
import ParleyCore

/// What a request asks of the response cache, from the body's `cache` object (the shape LiteLLM uses, so
/// clients moving over keep working) and the `x-parley-cache-control` / `x-parley-cache-namespace` headers.
///
/// - `no-cache`: do not answer from the cache (the fresh answer is still stored).
/// - `no-store`: do not store this answer.
/// - `ttl` (or `max-age`) in seconds: keep the answer this long; also opts a non-deterministic request in.
/// - `store`: opt a non-deterministic request in (answers are cached by default only at temperature 0 or
///   with a seed).
/// - `namespace`: share entries with every caller naming the same namespace, instead of per API key/user.
public struct CacheControls: Sendable, Equatable {
    public var noCache = false
    public var noStore = false
    public var optIn = false
    public var ttl: Duration?
    public var namespace: String?

    public init() {}

    /// Longest namespace name accepted.
    static let maxNamespaceLength = 128
    /// Longest time to live a request may ask for.
    public static let maxTTL: Duration = .seconds(30 * 86_400)

    /// Reads the body's `cache` object: `{"no-cache": true, "no-store": true, "ttl": 600, "namespace": "team"}`.
    init(parsing scanner: inout JSONScanner) throws {
        self.init()
        if scanner.readNull() { return }
        guard scanner.peekValue() == UInt8(ascii: "{") else {
            throw InvalidGatewayRequest("'cache' must be an object like {\"no-cache\": true, \"ttl\": 600}", param: "cache")
        }
        try scanner.readObject { scanner, key in
            let key = key.string
            switch key.replacingOccurrences(of: "_", with: "-") {
            case "no-cache": noCache = try Self.flag(&scanner, key)
            case "no-store": noStore = try Self.flag(&scanner, key)
            case "store", "use-cache": optIn = try Self.flag(&scanner, key)
            case "ttl", "max-age", "s-maxage":
                let seconds: Double?
                do {
                    seconds = try scanner.readOptionalNumber()
                } catch {
                    throw InvalidGatewayRequest("'cache.\(key)' must be a number of seconds", param: "cache.\(key)")
                }
                if let seconds { try set(ttl: seconds, name: "cache.\(key)") }
            case "namespace":
                if scanner.readNull() { return }
                guard scanner.nextIsString() else {
                    throw InvalidGatewayRequest("'cache.namespace' must be a string", param: "cache.namespace")
                }
                try set(namespace: try scanner.readString(), name: "cache.namespace")
            default:
                throw InvalidGatewayRequest("unknown cache control '\(key)'; use no-cache, no-store, store, ttl or namespace",
                                            param: "cache.\(key)")
            }
        }
    }

    /// Adds the header controls: `x-parley-cache-control: no-cache, no-store, store, ttl=600` and
    /// `x-parley-cache-namespace: team`. Header values win over the body's.
    public mutating func apply(controlHeader: String?, namespaceHeader: String?) throws(InvalidGatewayRequest) {
        if let controlHeader {
            for directive in controlHeader.split(separator: ",") {
                let parts = directive.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    .map { $0.trimmingSpaces.lowercased() }
                switch parts[0] {
                case "" where parts.count == 1: continue
                case "no-cache": noCache = true
                case "no-store": noStore = true
                case "store": optIn = true
                case "ttl", "max-age", "s-maxage":
                    guard parts.count == 2, let seconds = CheckedNumber.decimal(parts[1], in: 0...1e12) else {
                        throw InvalidGatewayRequest("x-parley-cache-control: \(parts[0]) needs a number of seconds, like ttl=600")
                    }
                    try set(ttl: seconds, name: "x-parley-cache-control \(parts[0])")
                default:
                    throw InvalidGatewayRequest("x-parley-cache-control: unknown directive '\(parts[0])'; use no-cache, no-store, store or ttl=N")
                }
            }
        }
        if let namespaceHeader { try set(namespace: String(namespaceHeader.trimmingSpaces), name: "x-parley-cache-namespace") }
    }

    private mutating func set(ttl seconds: Double, name: String) throws(InvalidGatewayRequest) {
        guard seconds.isFinite, seconds > 0, seconds <= Self.maxTTL.secondsValue else {
            throw InvalidGatewayRequest("\(name) must be from 1 to \(Int(Self.maxTTL.secondsValue)) seconds", param: name.hasPrefix("cache") ? name : nil)
        }
        ttl = .checkedSeconds(seconds)
        optIn = true
    }

    private mutating func set(namespace name: String, name field: String) throws(InvalidGatewayRequest) {
        guard !name.isEmpty, name.utf8.count <= Self.maxNamespaceLength,
              name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
            throw InvalidGatewayRequest("\(field) must be 1 to \(Self.maxNamespaceLength) characters without spaces or control characters",
                                        param: field.hasPrefix("cache") ? field : nil)
        }
        namespace = name
    }

    private static func flag(_ scanner: inout JSONScanner, _ key: String) throws -> Bool {
        do {
            return try scanner.readOptionalBool() ?? false
        } catch {
            throw InvalidGatewayRequest("'cache.\(key)' must be true or false", param: "cache.\(key)")
        }
    }
}
