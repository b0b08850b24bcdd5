import NIOCore
@testable import ParleyRedis
import Testing

@Suite struct RESPDecoderTests {
    static let wire = "+OK\r\n-ERR bad thing\r\n:42\r\n$5\r\nhe\r\nl\r\n$-1\r\n*3\r\n$7\r\nmessage\r\n:7\r\n*0\r\n*-1\r\n$0\r\n\r\n"
    static let values: [RESPValue] = [
        .simple("OK"), .error("ERR bad thing"), .integer(42), .bulk(ByteBuffer(string: "he\r\nl")), .bulk(nil),
        .array([.bulk(ByteBuffer(string: "message")), .integer(7), .array([])]), .array(nil), .bulk(ByteBuffer()),
    ]

    /// Parses everything available from `buffer`, as the channel handler does after each read.
    static func drain(_ buffer: inout ByteBuffer) throws -> [RESPValue] {
        var out: [RESPValue] = []
        while true {
            var cursor = buffer.readerIndex
            guard let value = try RESPDecoder.parse(buffer, at: &cursor, depth: 0) else { return out }
            buffer.moveReaderIndex(to: cursor)
            out.append(value)
        }
    }

    @Test func decodesEveryReplyTypeAtEverySplitPoint() throws {
        let bytes = Array(Self.wire.utf8)
        for split in 0...bytes.count {
            var buffer = ByteBuffer(bytes: bytes[..<split])
            var values = try Self.drain(&buffer)
            buffer.writeBytes(bytes[split...])
            values += try Self.drain(&buffer)
            #expect(values == Self.values, "split at \(split)")
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test func decodesByteByByte() throws {
        var buffer = ByteBuffer()
        var values: [RESPValue] = []
        for byte in Self.wire.utf8 {
            buffer.writeInteger(byte)
            values += try Self.drain(&buffer)
        }
        #expect(values == Self.values)
    }

    @Test func rejectsGarbageInsteadOfWaiting() {
        for garbage in ["?what\r\n", "$-5\r\n", "$3\r\nabcde\r\n", ":x1\r\n", "*99999999999\r\n", "+a\rb\r\n"] {
            var buffer = ByteBuffer(string: garbage)
            #expect(throws: RedisError.self, "\(garbage)") { _ = try Self.drain(&buffer) }
        }
        var endless = ByteBuffer(repeating: UInt8(ascii: "a"), count: RESPDecoder.maxLineLength + 10)
        endless.setInteger(UInt8(ascii: "+"), at: 0)
        #expect(throws: RedisError.self) { _ = try Self.drain(&endless) }
    }

    @Test func encodesCommandsAsBulkArrays() {
        var buffer = ByteBuffer()
        RESPEncoder.write(["SET", "k", .bytes(ByteBuffer(string: "v\r\n")), .int(10)], into: &buffer)
        #expect(String(buffer: buffer) == "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\r\n\r\n$2\r\n10\r\n")
    }

    @Test func readsRedisURLs() throws {
        let full = try RedisConfiguration(url: "redis://app:p%40ss:word@cache.internal:6380/3")
        #expect(full.host == "cache.internal" && full.port == 6380 && full.database == 3)
        #expect(full.username == "app" && full.password == "p@ss:word")
        #expect(!full.redacted.contains("p@ss"))
        let passwordOnly = try RedisConfiguration(url: "redis://:secret@127.0.0.1")
        #expect(passwordOnly.username == nil && passwordOnly.password == "secret" && passwordOnly.port == 6379)
        let bare = try RedisConfiguration(url: "redis://localhost")
        #expect(bare.host == "localhost" && bare.database == 0 && bare.password == nil)
        let ipv6 = try RedisConfiguration(url: "redis://[::1]:7000/1")
        #expect(ipv6.host == "::1" && ipv6.port == 7000 && ipv6.database == 1)
        for bad in ["http://x", "rediss://x", "redis://x:99999", "redis://x/abc"] {
            #expect(throws: RedisError.self, "\(bad)") { _ = try RedisConfiguration(url: bad) }
        }
    }
}
