import Crypto
import ParleyCore

/// Cache keys: a SHA-256 digest of the request's canonical JSON, so requests that differ only in key order,
/// whitespace, string escapes or number spelling (`0` and `0.0`) share an entry.
///
/// Canonical form: objects with keys sorted (by UTF-8 bytes), strings re-escaped the one way Parley writes
/// them, numbers in their shortest form, no whitespace.
enum CanonicalJSON {
    struct TooDeep: Error {}

    /// `namespace`, `kind` and the canonical body minus `omitting` (top-level keys that do not change the
    /// answer, like `user`), hashed.
    static func digest(_ bytes: [UInt8], omitting: Set<String>, kind: String, namespace: String) throws -> String {
        var scanner = JSONScanner(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + namespace.utf8.count + 16)
        out.append(contentsOf: namespace.utf8)
        out.append(0)
        out.append(contentsOf: kind.utf8)
        out.append(0)
        try write(&scanner, into: &out, omitting: omitting, depth: 0)
        var hasher = SHA256()
        hasher.update(data: out)
        return Hex.encode(hasher.finalize())
    }

    /// The canonical text of one value (for tests and debugging).
    static func canonical(_ bytes: [UInt8]) throws -> String {
        var scanner = JSONScanner(bytes)
        var out: [UInt8] = []
        try write(&scanner, into: &out, omitting: [], depth: 0)
        return String(decoding: out, as: UTF8.self)
    }

    private static func write(_ scanner: inout JSONScanner, into out: inout [UInt8], omitting: Set<String>, depth: Int) throws {
        guard depth < 64 else { throw TooDeep() }
        switch scanner.peekValue() {
        case UInt8(ascii: "{"):
            var members: [(key: JSONKey, value: [UInt8])] = []
            try scanner.readObject { scanner, key in
                if depth == 0, omitting.contains(key.string) { return try scanner.skipValue() }
                var value: [UInt8] = []
                try write(&scanner, into: &value, omitting: omitting, depth: depth + 1)
                members.append((key, value))
            }
            members.sort { $0.key.bytes.lexicographicallyPrecedes($1.key.bytes) }
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.appendQuoted(member.key.string, to: &out)
                out.append(UInt8(ascii: ":"))
                out.append(contentsOf: member.value)
            }
            out.append(UInt8(ascii: "}"))
        case UInt8(ascii: "["):
            out.append(UInt8(ascii: "["))
            var first = true
            try scanner.readArray { scanner in
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                try write(&scanner, into: &out, omitting: omitting, depth: depth + 1)
            }
            out.append(UInt8(ascii: "]"))
        case UInt8(ascii: "\""):
            out.append(contentsOf: JSONText.quote(try scanner.readString()).utf8)
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            out.append(contentsOf: (try scanner.readOptionalBool() == true ? "true" : "false").utf8)
        case UInt8(ascii: "n"):
            guard scanner.readNull() else { throw JSONScanner.Malformed() }
            out.append(contentsOf: "null".utf8)
        default:
            guard let number = try scanner.readOptionalNumber() else { throw JSONScanner.Malformed() }
            let text = number == number.rounded() && abs(number) < 9_007_199_254_740_992 ? String(Int64(number)) : String(number)
            out.append(contentsOf: text.utf8)
        }
    }
}
