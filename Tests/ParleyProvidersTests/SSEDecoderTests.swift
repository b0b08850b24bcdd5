import Testing
@testable import ParleyProviders

@Suite struct SSEDecoderTests {
    /// Feeds `text` split at the given byte offsets and returns every event.
    func decode(_ text: String, splits: [Int]) throws -> [ServerSentEvent] {
        let bytes = Array(text.utf8)
        var decoder = SSEDecoder()
        var events: [ServerSentEvent] = []
        var start = 0
        for split in splits.sorted() where split > start && split < bytes.count {
            events += try decoder.feed(bytes[start..<split])
            start = split
        }
        events += try decoder.feed(bytes[start...])
        return events
    }

    static let stream = "\u{FEFF}: a comment\r\n"
        + "event: chunk\r\nid: 7\r\ndata: {\"a\":\"é😀\"}\r\n\r\n"
        + "data: line one\ndata: line two\n\n"
        + "data:no-space\rretry: 1500\r\r"
        + ": ping\n\n"
        + "event: empty-no-data\n\n"
        + "data\n\n"
        + "data: [DONE]\n\n"
        + "data: trailing event without blank line"

    static let expected = [
        ServerSentEvent(event: "chunk", data: "{\"a\":\"é😀\"}", id: "7"),
        ServerSentEvent(data: "line one\nline two", id: "7"),
        ServerSentEvent(data: "no-space", id: "7", retry: 1500),
        ServerSentEvent(data: "", id: "7", retry: 1500),
        ServerSentEvent(data: "[DONE]", id: "7", retry: 1500),
    ]

    @Test func decodesAWholeStream() throws {
        #expect(try decode(Self.stream, splits: []) == Self.expected)
    }

    @Test func everySingleSplitPointGivesTheSameEvents() throws {
        let count = Self.stream.utf8.count
        for split in 1..<count {
            #expect(try decode(Self.stream, splits: [split]) == Self.expected, "split at byte \(split)")
        }
    }

    @Test func oneByteAtATime() throws {
        #expect(try decode(Self.stream, splits: Array(1..<Self.stream.utf8.count)) == Self.expected)
    }

    @Test func randomChunkings() throws {
        var generator = SeededGenerator(seed: 42)
        let count = Self.stream.utf8.count
        for _ in 0..<500 {
            let splits = (0..<Int.random(in: 1...12, using: &generator)).map { _ in Int.random(in: 1..<count, using: &generator) }
            #expect(try decode(Self.stream, splits: splits) == Self.expected, "splits \(splits)")
        }
    }

    @Test func crAtTheEndOfOneChunkAndLFAtTheStartOfTheNext() throws {
        let events = try decode("data: a\r\n\r\ndata: b\r\n\r\n", splits: [8, 9, 10, 11])
        #expect(events.map(\.data) == ["a", "b"])
    }

    @Test func overlongLinesAreRejected() {
        var decoder = SSEDecoder(maxLineBytes: 64)
        #expect(throws: SSEDecoder.LineTooLong.self) {
            _ = try decoder.feed(Array(("data: " + String(repeating: "x", count: 100)).utf8))
        }
    }

    /// A line of exactly the limit is read, one byte more is refused, however the line arrives (in one buffer, in
    /// pieces, or from a sequence that is not contiguous and is read byte by byte).
    @Test func theLineLimitIsExactWhateverTheChunking() throws {
        let fits = Array(("data: " + String(repeating: "x", count: 58)).utf8)
        #expect(fits.count == 64)
        for splits in [[], [1], [30], [63], [10, 20, 40]] {
            for (line, accepted) in [(fits, true), (fits + [UInt8(ascii: "y")], false)] {
                var decoder = SSEDecoder(maxLineBytes: 64)
                var start = 0
                var failed = false
                for end in splits + [line.count] {
                    do { _ = try decoder.feed(line[start..<end]) } catch is SSEDecoder.LineTooLong { failed = true }
                    start = end
                }
                if accepted {
                    #expect(!failed, "\(splits)")
                    #expect(try decoder.feed(Array("\n\n".utf8)).map(\.data) == [String(repeating: "x", count: 58)])
                } else {
                    #expect(failed, "\(splits)")
                }
            }
        }
        var lazy = SSEDecoder(maxLineBytes: 64)
        #expect(try lazy.feed((fits + Array("\n\n".utf8)).lazy.map { $0 }).map(\.data) == [String(repeating: "x", count: 58)])
        #expect(throws: SSEDecoder.LineTooLong.self) { _ = try lazy.feed((fits + [1]).lazy.map { $0 }) }
        #expect(try decode(Self.stream, splits: []) == Self.expected)
    }
}

/// A small deterministic generator so random chunkings are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
