import FuzzSupport
import ParleyCore

/// libFuzzer entry: what a client or another replica puts where Parley expects a number — `Last-Event-ID`,
/// query values, cursors, bus notices. A number that parses lies in its range and reads back the same; nothing
/// traps.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClientNumbers(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let text = String(decoding: fuzzInput(start, count), as: UTF8.self)
    for range in [0...CheckedNumber.wholeLimit, 1...200, -50...50] {
        if let value = CheckedNumber.integer(text, in: range) {
            precondition(range.contains(value))
            precondition(CheckedNumber.integer(String(value), in: range) == value)
            precondition(GenerationFeed.checkedEventID(value) + 1 > GenerationFeed.checkedEventID(value))
        }
    }
    if let seconds = CheckedNumber.decimal(text, in: 0...86_400) {
        precondition(seconds.isFinite && Duration.checkedSeconds(seconds) >= .zero)
    }
    if let cursor = ConversationCursor(token: text) {
        precondition(ConversationCursor(token: cursor.token) == cursor)
    }
    for notice in BusNoticeCoding.decode(text) {
        precondition(!BusNoticeCoding.encode([notice]).isEmpty)
    }
    return 0
}

@main enum FuzzClientNumbersMain {
    static func main() { runFuzzer(fuzzClientNumbers) }
}
