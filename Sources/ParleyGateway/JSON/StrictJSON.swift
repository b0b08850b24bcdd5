import ParleyCore

/// The check every JSON body from a client passes before anything reads it: RFC 8259 JSON in UTF-8 and
/// nothing looser. No byte-order mark, no UTF-16, no trailing commas, no comments, no key twice in one object
/// (which parsers disagree on: one keeps the first, another the last), no nesting deeper than
/// ``JSONScanner/maxDepth``.
public enum StrictJSON {
    /// Why a body was refused, in words for the client.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// Throws ``Invalid`` unless `bytes` hold exactly one JSON value, strictly written.
    public static func validate(_ bytes: [UInt8]) throws(Invalid) {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw Invalid(reason: "the request body starts with a byte-order mark; send UTF-8 JSON without one")
        }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw Invalid(reason: "the request body is not UTF-8")
        }
        var scanner = JSONScanner(bytes)
        do {
            try checkValue(&scanner)
            guard scanner.atEnd() else { throw JSONScanner.Malformed() }
        } catch let error as Invalid {
            throw error
        } catch let error as JSONScanner.Malformed {
            throw Invalid(reason: error.reason)
        } catch {
            throw Invalid(reason: "the request body is not valid JSON")
        }
    }

    private static func checkValue(_ scanner: inout JSONScanner) throws {
        switch scanner.peekValue() {
        case UInt8(ascii: "{"):
            var keys = Set<JSONKey>()
            try scanner.readObject { scanner, key in
                guard keys.insert(key).inserted else {
                    throw Invalid(reason: "the request body names '\(key.string.prefix(64))' twice in one object")
                }
                try checkValue(&scanner)
            }
        case UInt8(ascii: "["):
            try scanner.readArray { scanner in try checkValue(&scanner) }
        default:
            try scanner.skipValue()
        }
    }
}
