import FuzzSupport
import NIOCore
@testable import ParleyRedis

/// libFuzzer entry: the RESP reply reader on whatever a Redis server (or anything else on its port) sends.
/// A reply is either complete, incomplete (`nil`) or a protocol violation; nothing may trap, allocate without
/// bound or read past the buffer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRESP(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let buffer = ByteBuffer(bytes: fuzzInput(start, count))
    var cursor = buffer.readerIndex
    var replies = 0
    while replies < 64, cursor < buffer.writerIndex {
        let before = cursor
        guard let value = try? RESPDecoder.parse(buffer, at: &cursor, depth: 0) else { break }
        precondition(cursor > before && cursor <= buffer.writerIndex, "the reader did not move forward within the buffer")
        _ = value.int
        replies += 1
    }
    return 0
}

@main enum FuzzRESPMain {
    static func main() { runFuzzer(fuzzRESP) }
}
