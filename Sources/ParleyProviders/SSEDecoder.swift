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

    /// Each run of bytes up to a line's end is appended at once (a network buffer holds a few lines of hundreds of
    /// bytes: one copy per run, not one append per byte).
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
                line.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[index..<end]))
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
        data.removeAll()
        hasData = false
        eventType = nil
        return []
    }

    private mutating func endLine(into events: inout [ServerSentEvent]) {
        defer { line.removeAll(keepingCapacity: true) }
        if atStreamStart {
            atStreamStart = false
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
        }
        if line.isEmpty {
            dispatch(into: &events)
            return
        }
        if line[0] == UInt8(ascii: ":") { return }
        let field: ArraySlice<UInt8>
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = line[..<colon]
            value = line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            field = line[...]
            value = []
        }
        if field.elementsEqual("data".utf8) {
            if hasData { data.append(UInt8(ascii: "\n")) }
            data.append(contentsOf: value)
            hasData = true
        } else if field.elementsEqual("event".utf8) {
            eventType = String(decoding: value, as: UTF8.self)
        } else if field.elementsEqual("id".utf8) {
            if !value.contains(0) { lastEventID = String(decoding: value, as: UTF8.self) }
        } else if field.elementsEqual("retry".utf8) {
            if !value.isEmpty, value.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
                retry = Int(String(decoding: value, as: UTF8.self))
            }
        }
    }

    private mutating func dispatch(into events: inout [ServerSentEvent]) {
        defer {
            data.removeAll(keepingCapacity: true)
            hasData = false
            eventType = nil
        }
        guard hasData else { return }
        let type = (eventType?.isEmpty ?? true) ? nil : eventType
        events.append(ServerSentEvent(event: type, dataBytes: data, id: lastEventID, retry: retry))
    }
}
