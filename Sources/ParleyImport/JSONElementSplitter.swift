/// Splits a JSON document fed in chunks into its top-level elements without holding more than one of them: the
/// elements of a top-level array one by one, or a top-level object whole. It follows only the structure (strings,
/// escapes, nesting); each element is parsed by whoever receives it. An element longer than `maxElementBytes` is
/// passed over (reported as ``Piece/tooLarge(position:)``) while its structure is still followed to its end.
public struct JSONElementSplitter: Sendable {
    /// What the splitter found.
    public enum Piece: Sendable, Equatable {
        /// The bytes of the element at `position` (0-based).
        case element(position: Int, bytes: [UInt8])
        /// An element larger than the limit, passed over.
        case tooLarge(position: Int)
    }

    /// Why the bytes are not a JSON array or object.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case notAnArrayOrObject
        case unbalanced
        case truncated

        public var description: String {
            switch self {
            case .notAnArrayOrObject: "the file is not a JSON array or object"
            case .unbalanced: "the file's brackets do not match"
            case .truncated: "the file ends in the middle of its JSON"
            }
        }
    }

    private enum Mode { case start, array, single, done }

    public let maxElementBytes: Int
    private var mode = Mode.start
    private var inElement = false
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var current: [UInt8] = []
    private var oversized = false
    private var position = 0

    public init(maxElementBytes: Int) {
        self.maxElementBytes = maxElementBytes
    }

    /// Feeds the next chunk; returns the elements it completed.
    public mutating func feed(_ chunk: some Sequence<UInt8>) throws(Failure) -> [Piece] {
        var pieces: [Piece] = []
        for byte in chunk {
            switch mode {
            case .done:
                continue
            case .start:
                if Self.isSpace(byte) || byte == 0xEF || byte == 0xBB || byte == 0xBF { continue } // a UTF-8 BOM too
                if byte == UInt8(ascii: "[") {
                    mode = .array
                } else if byte == UInt8(ascii: "{") {
                    mode = .single
                    begin()
                    try take(byte, into: &pieces)
                } else {
                    throw .notAnArrayOrObject
                }
            case .array:
                if !inElement {
                    if Self.isSpace(byte) || byte == UInt8(ascii: ",") { continue }
                    if byte == UInt8(ascii: "]") { mode = .done; continue }
                    begin()
                }
                try take(byte, into: &pieces)
            case .single:
                try take(byte, into: &pieces)
            }
        }
        return pieces
    }

    /// Call after the last chunk: throws when the document stopped short.
    public func finish() throws(Failure) {
        switch mode {
        case .done: return
        case .start: throw .notAnArrayOrObject
        case .array, .single: throw .truncated
        }
    }

    private mutating func begin() {
        inElement = true
        depth = 0
        inString = false
        escaped = false
        oversized = false
    }

    private mutating func take(_ byte: UInt8, into pieces: inout [Piece]) throws(Failure) {
        if inString {
            append(byte)
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                inString = false
            }
            return
        }
        switch byte {
        case UInt8(ascii: "\""):
            inString = true
            append(byte)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            depth += 1
            append(byte)
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
            if depth == 0 {
                // The array's own end, after a bare value (a number, true…).
                guard mode == .array, byte == UInt8(ascii: "]") else { throw .unbalanced }
                complete(into: &pieces)
                mode = .done
                return
            }
            depth -= 1
            append(byte)
            if depth == 0 { complete(into: &pieces) }
        case UInt8(ascii: ","):
            if depth == 0 { complete(into: &pieces) } else { append(byte) }
        default:
            append(byte)
        }
    }

    private mutating func append(_ byte: UInt8) {
        guard !oversized else { return }
        if current.count >= maxElementBytes {
            oversized = true
            current = []
        } else {
            current.append(byte)
        }
    }

    private mutating func complete(into pieces: inout [Piece]) {
        pieces.append(oversized ? .tooLarge(position: position) : .element(position: position, bytes: current))
        position += 1
        inElement = false
        current = []
        if mode == .single { mode = .done }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}
