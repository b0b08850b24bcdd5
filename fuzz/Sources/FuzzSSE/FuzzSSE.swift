import FuzzSupport
@testable import ParleyProviders

/// libFuzzer entry: the event-stream decoder fed an upstream's bytes in pieces. The first byte picks where the
/// stream is cut, so events, lines, CRLF pairs and UTF-8 sequences are split at every place; the events must
/// not depend on where the cuts fall.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSSE(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let bytes = fuzzInput(start, count)
    let step = Int(bytes[0] % 16) + 1
    let stream = Array(bytes.dropFirst())
    var whole = SSEDecoder(maxLineBytes: 4096)
    var pieces = SSEDecoder(maxLineBytes: 4096)
    let all = try? whole.feed(stream)
    var split: [ServerSentEvent]? = []
    var offset = 0
    while offset < stream.count {
        let end = min(stream.count, offset + step)
        guard let events = try? pieces.feed(stream[offset..<end]) else {
            split = nil
            break
        }
        split?.append(contentsOf: events)
        offset = end
    }
    if let all, let split, all + whole.finish() != split + pieces.finish() {
        fatalError("events differ when the stream is cut every \(step) bytes")
    }
    return 0
}

@main enum FuzzSSEMain {
    static func main() { runFuzzer(fuzzSSE) }
}
