import NIOCore

/// Reads RESP2 replies from the byte stream, one whole reply at a time.
///
/// A reply split across network reads waits for the rest; nothing is consumed until a reply is complete.
/// Lengths are checked, so a server (or anything else on the port) that sends garbage closes the connection
/// with ``RedisError/protocolViolation(_:)`` instead of allocating without bound.
struct RESPDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPValue

    /// Largest bulk string accepted (Redis's own default `proto-max-bulk-len`).
    static let maxBulkLength = 512 * 1024 * 1024
    static let maxArrayLength = 1 << 24
    static let maxDepth = 32

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        var cursor = buffer.readerIndex
        guard let value = try Self.parse(buffer, at: &cursor, depth: 0) else { return .needMoreData }
        buffer.moveReaderIndex(to: cursor)
        context.fireChannelRead(wrapInboundOut(value))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }

    /// Parses one reply starting at `cursor`; `nil` when the buffer does not hold all of it yet.
    static func parse(_ buffer: ByteBuffer, at cursor: inout Int, depth: Int) throws -> RESPValue? {
        guard depth < maxDepth else { throw RedisError.protocolViolation("replies nested too deep") }
        guard let type = buffer.getInteger(at: cursor, as: UInt8.self) else { return nil }
        guard let line = try line(buffer, from: cursor + 1) else { return nil }
        let text = buffer.getString(at: cursor + 1, length: line.count) ?? ""
        var next = line.next
        switch type {
        case UInt8(ascii: "+"):
            cursor = next
            return .simple(text)
        case UInt8(ascii: "-"):
            cursor = next
            return .error(text)
        case UInt8(ascii: ":"):
            guard let value = Int(text) else { throw RedisError.protocolViolation("bad integer '\(text)'") }
            cursor = next
            return .integer(value)
        case UInt8(ascii: "$"):
            guard let length = Int(text), length >= -1, length <= maxBulkLength else {
                throw RedisError.protocolViolation("bad bulk length '\(text)'")
            }
            if length == -1 {
                cursor = next
                return .bulk(nil)
            }
            guard buffer.writerIndex - next >= length + 2 else { return nil }
            guard buffer.getInteger(at: next + length, as: UInt16.self) == 0x0D0A else {
                throw RedisError.protocolViolation("bulk string not followed by CRLF")
            }
            let slice = buffer.getSlice(at: next, length: length)
            cursor = next + length + 2
            return .bulk(slice)
        case UInt8(ascii: "*"):
            guard let count = Int(text), count >= -1, count <= maxArrayLength else {
                throw RedisError.protocolViolation("bad array length '\(text)'")
            }
            if count == -1 {
                cursor = next
                return .array(nil)
            }
            var values: [RESPValue] = []
            values.reserveCapacity(count)
            for _ in 0..<count {
                guard let value = try parse(buffer, at: &next, depth: depth + 1) else { return nil }
                values.append(value)
            }
            cursor = next
            return .array(values)
        default:
            throw RedisError.protocolViolation("unknown reply type byte \(type)")
        }
    }

    /// Longest header or simple-string line accepted.
    static let maxLineLength = 1 << 16

    /// The length of the line starting at `start` (without CRLF) and where the next one starts.
    private static func line(_ buffer: ByteBuffer, from start: Int) throws -> (count: Int, next: Int)? {
        let end = min(buffer.writerIndex, start + maxLineLength + 2)
        var index = start
        while index + 1 < end {
            if buffer.getInteger(at: index, as: UInt8.self) == 0x0D {
                guard buffer.getInteger(at: index + 1, as: UInt8.self) == 0x0A else {
                    throw RedisError.protocolViolation("CR not followed by LF")
                }
                return (index - start, index + 2)
            }
            index += 1
        }
        if buffer.writerIndex - start > maxLineLength + 1 { throw RedisError.protocolViolation("line too long") }
        return nil
    }
}
