import NIOCore
import ParleyCore
import Testing
@testable import ParleyProviders

/// A chunk keeps the bytes it was read from, whichever form they came in, and hands them over unchanged.
@Suite struct StreamChunkTests {
    static let json = #"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"é 🙂"},"finish_reason":null}]}"#

    @Test func bytesReadFromAnEventAreKeptAsTheyCame() throws {
        let chunk = try StreamChunk(parsing: Array(Self.json.utf8))
        #expect(chunk.events == [.text("é 🙂")])
        #expect(String(buffer: chunk.bytes) == Self.json)
        #expect(chunk.byteCount == Self.json.utf8.count)
        var out = ByteBuffer(string: "data: ")
        chunk.write(to: &out)
        #expect(String(buffer: out) == "data: " + Self.json)
    }

    @Test func bytesReadFromABufferAreKeptAsTheyCame() throws {
        var buffer = ByteBuffer(string: "skipped")
        buffer.moveReaderIndex(forwardBy: 7)
        buffer.writeString(Self.json)
        let chunk = try StreamChunk(parsing: buffer)
        #expect(String(buffer: chunk.bytes) == Self.json && chunk.byteCount == Self.json.utf8.count)
        var out = ByteBuffer()
        chunk.write(to: &out)
        #expect(String(buffer: out) == Self.json)
    }

    @Test func replacedBytesAreTheOnesHandedOver() throws {
        var chunk = try StreamChunk(parsing: Array(Self.json.utf8))
        chunk.bytes = ByteBuffer(string: "{}")
        #expect(chunk.byteCount == 2 && String(buffer: chunk.bytes) == "{}")
        var out = ByteBuffer()
        chunk.write(to: &out)
        #expect(String(buffer: out) == "{}")
        #expect(chunk.events == [.text("é 🙂")])
    }
}
