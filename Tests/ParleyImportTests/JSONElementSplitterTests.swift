import ParleyImport
import Testing

/// The splitter on documents cut into chunks at every place: the same elements whatever the cuts.
@Suite struct JSONElementSplitterTests {
    static func split(_ text: String, chunk: Int, limit: Int = 1 << 20) throws -> [JSONElementSplitter.Piece] {
        var splitter = JSONElementSplitter(maxElementBytes: limit)
        let bytes = Array(text.utf8)
        var pieces: [JSONElementSplitter.Piece] = []
        var start = 0
        while start < bytes.count {
            pieces += try splitter.feed(bytes[start..<min(start + chunk, bytes.count)])
            start += chunk
        }
        try splitter.finish()
        return pieces
    }

    static func texts(_ pieces: [JSONElementSplitter.Piece]) -> [String] {
        pieces.map { piece in
            switch piece {
            case .element(_, let bytes): String(decoding: bytes, as: UTF8.self)
            case .tooLarge(let position): "<too large \(position)>"
            }
        }
    }

    @Test func elementsComeOutWholeWhereverTheChunksAreCut() throws {
        let document = #"""
            ﻿ [ {"a": "x]},{\"y", "b": [1, {"c": "\\"}]}, 42 ,"text, with [brackets]", true,
              {"nested": {"deeper": [[], {}]}}, null ]
            """#
        let expected = [#"{"a": "x]},{\"y", "b": [1, {"c": "\\"}]}"#, "42 ", #""text, with [brackets]""#, "true",
                        #"{"nested": {"deeper": [[], {}]}}"#, "null "]
        for chunk in 1...12 {
            #expect(try Self.texts(Self.split(document, chunk: chunk)) == expected, "chunks of \(chunk)")
        }
    }

    @Test func aTopLevelObjectIsOneElementAndAnEmptyArrayNone() throws {
        #expect(try Self.texts(Self.split(#" {"messages": [1, 2]} "#, chunk: 3)) == [#"{"messages": [1, 2]}"#])
        #expect(try Self.split("[]", chunk: 1).isEmpty)
        #expect(try Self.split(" [ \n ] ", chunk: 2).isEmpty)
    }

    @Test func anElementOverTheLimitIsPassedOverAndTheRestRead() throws {
        let big = "{\"text\": \"" + String(repeating: "[{", count: 500) + "\"}"
        let pieces = try Self.split("[{\"a\":1}, \(big), {\"b\":2}]", chunk: 7, limit: 100)
        #expect(Self.texts(pieces) == [#"{"a":1}"#, "<too large 1>", #"{"b":2}"#])
    }

    @Test func whatIsNotAnArrayOrObjectOrStopsShortFails() {
        for (document, failure) in [("hello", JSONElementSplitter.Failure.notAnArrayOrObject), ("", .notAnArrayOrObject),
                                    (#"[{"a": 1}, {"b": "#, .truncated), ("[1, }", .unbalanced), ("[1, 2", .truncated)] {
            #expect(throws: failure, "\(document)") { _ = try Self.split(document, chunk: 4) }
        }
    }
}
