#if canImport(Glibc)
import Glibc
#endif

/// One server-sent event.
public struct ServerSentEvent: Sendable, Equatable {
    /// The `event:` field; `nil` means the default type, "message".
    public var event: String?
    /// The `data:` lines joined with "\n", as UTF-8 bytes: a chat completion chunk is parsed from them as they are.
    public var dataBytes: [UInt8]
    public var id: String?
    /// The `retry:` field in milliseconds, when it was a number.
    public var retry: Int?

    /// The `data:` lines joined with "\n".
    public var data: String { String(decoding: dataBytes, as: UTF8.self) }

    public init(event: String? = nil, data: String, id: String? = nil, retry: Int? = nil) {
        self.init(event: event, dataBytes: Array(data.utf8), id: id, retry: retry)
    }

    public init(event: String? = nil, dataBytes: [UInt8], id: String? = nil, retry: Int? = nil) {
        self.event = event
        self.dataBytes = dataBytes
        self.id = id
        self.retry = retry
    }
}

/// An incremental decoder for `text/event-stream` as the WHATWG HTML standard defines it.
///
/// Feed it bytes exactly as they arrive: events may be split anywhere, including inside a UTF-8 sequence or
/// between the CR and LF of a line ending. Lines end in LF, CR or CRLF; lines starting with ":" are comments;
/// a leading BOM is skipped; several `data:` lines join with "\n"; an event is dispatched at a blank line,
/// and one with no data is not dispatched. A single line longer than `maxLineBytes` is an error, so a hostile
/// upstream cannot grow memory without bound.
public struct SSEDecoder: Sendable {
    public struct LineTooLong: Error, CustomStringConvertible {
        public let limit: Int
        public var description: String { "an event-stream line exceeded \(limit) bytes" }
    }

    public let maxLineBytes: Int
    private var line: [UInt8] = []
    /// The current line was read where it arrived (``line`` stays empty); its ending has yet to come.
    private var lineWasRead = false
    private var lastWasCR = false
    private var atStreamStart = true
    private var eventType: String?
    private var data: [UInt8] = []
    private var hasData = false
    private var lastEventID: String?
    private var retry: Int?

    public init(maxLineBytes: Int = 1 << 20) {
        self.maxLineBytes = maxLineBytes
    }

    /// Decodes what `bytes` completes and returns the events dispatched, in order.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) throws -> [ServerSentEvent] where Bytes.Element == UInt8 {
        if let events = try bytes.withContiguousStorageIfAvailable({ try feed(contiguous: $0) }) { return events }
        return try Array(bytes).withUnsafeBufferPointer { try feed(contiguous: $0) }
    }

    /// A line that arrives whole (the usual case: a network buffer holds a few lines of hundreds of bytes) is read
    /// where it lies; a line split across buffers is gathered in `line`, each run appended at once.
    private mutating func feed(contiguous bytes: UnsafeBufferPointer<UInt8>) throws -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\n"):
                if lastWasCR {
                    lastWasCR = false
                } else {
                    endLine(into: &events)
                }
                index += 1
            case UInt8(ascii: "\r"):
                lastWasCR = true
                endLine(into: &events)
                index += 1
            default:
                lastWasCR = false
                let end = Self.lineEnd(in: bytes, from: index)
                guard line.count + (end - index) <= maxLineBytes else { throw LineTooLong(limit: maxLineBytes) }
                if line.isEmpty && end < bytes.count {
                    read(line: UnsafeBufferPointer(rebasing: bytes[index..<end]), into: &events)
                    lineWasRead = true
                } else {
                    line.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[index..<end]))
                }
                index = end
            }
        }
        return events
    }

    /// The offset of the first LF or CR at or after `start` (`bytes.count` if none): `memchr` looks at many bytes a step.
    private static func lineEnd(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        guard let base = bytes.baseAddress, start < bytes.count else { return bytes.count }
        var end = bytes.count
        if let found = memchr(base + start, Int32(UInt8(ascii: "\n")), end - start) {
            end = UnsafeRawPointer(found) - UnsafeRawPointer(base)
        }
        // A CR alone ends a line too (rare: looked for only before the LF).
        if end > start, let found = memchr(base + start, Int32(UInt8(ascii: "\r")), end - start) {
            end = UnsafeRawPointer(found) - UnsafeRawPointer(base)
        }
        return end
    }

    /// Ends the stream. A final event not followed by a blank line is discarded, as the standard says.
    public mutating func finish() -> [ServerSentEvent] {
        line.removeAll()
        lineWasRead = false
        data.removeAll()
        hasData = false
        eventType = nil
        return []
    }

    /// At a line's end: reads the line gathered in `line`, unless it was read where it arrived.
    private mutating func endLine(into events: inout [ServerSentEvent]) {
        if lineWasRead {
            lineWasRead = false
            return
        }
        // Moved out while it is read (reading changes the decoder), then back, so its storage is kept.
        var gathered: [UInt8] = []
        swap(&gathered, &line)
        gathered.withUnsafeBufferPointer { read(line: $0, into: &events) }
        gathered.removeAll(keepingCapacity: true)
        swap(&gathered, &line)
    }

    /// Acts on one line, its ending left out.
    private mutating func read(line whole: UnsafeBufferPointer<UInt8>, into events: inout [ServerSentEvent]) {
        var line = whole
        if atStreamStart {
            atStreamStart = false
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line = UnsafeBufferPointer(rebasing: line[3...]) }
        }
        if line.isEmpty {
            dispatch(into: &events)
            return
        }
        if line[0] == UInt8(ascii: ":") { return }
        let field: UnsafeBufferPointer<UInt8>
        var value: UnsafeBufferPointer<UInt8>
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = UnsafeBufferPointer(rebasing: line[..<colon])
            value = UnsafeBufferPointer(rebasing: line[(colon + 1)...])
            if value.first == UInt8(ascii: " ") { value = UnsafeBufferPointer(rebasing: value[1...]) }
        } else {
            field = line
            value = UnsafeBufferPointer(start: nil, count: 0)
        }
        if Self.field(field, is: "data") {
            if hasData { data.append(UInt8(ascii: "\n")) }
            data.append(contentsOf: value)
            hasData = true
        } else if Self.field(field, is: "event") {
            eventType = String(decoding: value, as: UTF8.self)
        } else if Self.field(field, is: "id") {
            if !value.contains(0) { lastEventID = String(decoding: value, as: UTF8.self) }
        } else if Self.field(field, is: "retry") {
            if !value.isEmpty, value.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
                retry = Int(String(decoding: value, as: UTF8.self))
            }
        }
    }

    private static func field(_ field: UnsafeBufferPointer<UInt8>, is name: StaticString) -> Bool {
        name.withUTF8Buffer { name in field.count == name.count && field.elementsEqual(name) }
    }

    private mutating func dispatch(into events: inout [ServerSentEvent]) {
        defer {
            hasData = false
            eventType = nil
        }
        guard hasData else { return }
        let type = (eventType?.isEmpty ?? true) ? nil : eventType
        // The event takes the data's storage; the next event's data gets storage of its own size.
        events.append(ServerSentEvent(event: type, dataBytes: data, id: lastEventID, retry: retry))
        data = []
    }
}
