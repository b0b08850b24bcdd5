import Foundation
@testable import ParleyGateway
import Testing

/// Skipping a value checks it exactly as reading it does, without making its strings.
@Suite struct JSONScannerSkipTests {
    static let strings = [
        #""""#, #""plain""#, #""caf\u00e9 \"quoted\" \\ \/ \b\f\n\r\t""#, #""\ud83d\ude00 emoji""#, "\"naïve ☕\"",
        #""\x""#, #""\u12""#, #""\u12g4""#, #""\udc00 lone low""#, #""\ud800 lone high""#, #""\ud800\u0041""#,
        #""\ud800\\""#, "\"tab\tinside\"", "\"line\nbreak\"", #""unterminated"#, #""ends in escape\"#, "\"",
    ]

    @Test(arguments: strings)
    func aStringIsSkippedWhereItCanBeRead(_ text: String) {
        var reader = JSONScanner(Array(text.utf8))
        let read = Result { try reader.readString() }
        var skipper = JSONScanner(Array(text.utf8))
        let skipped = Result { try skipper.skipValue() }
        switch (read, skipped) {
        case (.success, .success): #expect(reader.offset == skipper.offset)
        case (.failure, .failure): break
        default: Issue.record("read \(read), skipped \(skipped) for \(text)")
        }
    }

    /// Plain runs are looked for eight bytes at a time: an escape, a quote or a control character anywhere in a
    /// longer string ends the run exactly there, reading and skipping alike.
    @Test func longStringsAreReadAndSkippedWithTheirSpecialBytesAnywhere() throws {
        for special in [#"\""#, #"\\"#, #"\n"#, #"\u00e9"#, "\t", "\u{1}", "€"] {
            for place in 0...20 {
                var body = String(repeating: "y", count: 20)
                body.insert(contentsOf: special, at: body.index(body.startIndex, offsetBy: place))
                let text = "\"" + body + "\""
                var reader = JSONScanner(Array(text.utf8))
                let read = Result { try reader.readString() }
                var skipper = JSONScanner(Array(text.utf8))
                let skipped = Result { try skipper.skipValue() }
                let decoded = Result { try JSONDecoder().decode(String.self, from: Data(text.utf8)) }
                switch (read, skipped, decoded) {
                case (.success(let value), .success, .success(let expected)):
                    #expect(value == expected && reader.offset == skipper.offset && reader.atEnd(), "\(text)")
                case (.failure, .failure, .failure): break
                default: Issue.record("read \(read), skipped \(skipped), decoded \(decoded) for \(text)")
                }
            }
        }
    }

    @Test(arguments: strings)
    func anObjectIsSkippedWhereItCanBeRead(_ text: String) {
        for object in ["{\(text): 1}", "{\"k\": \(text)}", "{\"k\": [\(text), {\"n\": \(text)}]}"] {
            var reader = JSONScanner(Array(object.utf8))
            let read = Result { try reader.readObject { scanner, _ in try Self.read(&scanner) } }
            var skipper = JSONScanner(Array(object.utf8))
            let skipped = Result { try skipper.skipValue() }
            switch (read, skipped) {
            case (.success, .success): #expect(reader.offset == skipper.offset && reader.atEnd() && skipper.atEnd())
            case (.failure, .failure): break
            default: Issue.record("read \(read), skipped \(skipped) for \(object)")
            }
        }
    }

    /// Reads a value whole, making every string (the way values were skipped before).
    static func read(_ scanner: inout JSONScanner) throws {
        switch scanner.peekValue() {
        case UInt8(ascii: "{"): try scanner.readObject { scanner, _ in try read(&scanner) }
        case UInt8(ascii: "["): try scanner.readArray { scanner in try read(&scanner) }
        case UInt8(ascii: "\""): _ = try scanner.readString()
        default: try scanner.skipValue()
        }
    }

    @Test func nestingBeyondTheLimitIsRefusedWhenSkipped() {
        let deep = String(repeating: #"{"a":"#, count: JSONScanner.maxDepth + 1) + "1" + String(repeating: "}", count: JSONScanner.maxDepth + 1)
        var scanner = JSONScanner(Array(deep.utf8))
        #expect(throws: JSONScanner.Malformed.self) { try scanner.skipValue() }
        let allowed = String(repeating: #"{"a":"#, count: JSONScanner.maxDepth) + "1" + String(repeating: "}", count: JSONScanner.maxDepth)
        var fine = JSONScanner(Array(allowed.utf8))
        #expect(throws: Never.self) { try fine.skipValue() }
    }
}
