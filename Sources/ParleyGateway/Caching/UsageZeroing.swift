import NIOCore
import ParleyCore

/// Stored answers report zero token usage: a replay costs nothing upstream, and clients that bill or
/// meter by `usage` must not count it twice.
package enum UsageZeroing {
    static let zeroUsage = Array(#"{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}"#.utf8)
    private static let marker = Array(#""usage""#.utf8)

    /// `json` with its top-level `usage` object replaced by zeros; unchanged when it has none.
    package static func zeroed(_ json: [UInt8]) -> [UInt8] {
        guard mentionsUsage(json) else { return json }
        var scanner = JSONScanner(json)
        var range: Range<Int>?
        do {
            guard scanner.peekValue() == UInt8(ascii: "{") else { return json }
            try scanner.readObject { scanner, key in
                guard key == "usage", scanner.peekValue() == UInt8(ascii: "{") else { return try scanner.skipValue() }
                let start = scanner.valueStart()
                try scanner.skipValue()
                range = start..<scanner.offset
            }
        } catch {
            return json
        }
        guard let range else { return json }
        return Array(json[..<range.lowerBound]) + zeroUsage + Array(json[range.upperBound...])
    }

    /// Whether `"usage"` appears in the bytes at all: a cheap test before parsing.
    static func mentionsUsage<Bytes: RandomAccessCollection>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8, Bytes.Index == Int {
        guard bytes.count >= marker.count else { return false }
        for start in bytes.startIndex...(bytes.endIndex - marker.count) where bytes[start] == marker[0] {
            if bytes[start..<start + marker.count].elementsEqual(marker) { return true }
        }
        return false
    }
}
