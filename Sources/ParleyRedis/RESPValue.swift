import NIOCore

/// One reply of the Redis serialization protocol (RESP2).
public enum RESPValue: Sendable, Equatable {
    /// `+OK`
    case simple(String)
    /// `-ERR …`: Redis refused the command; the text starts with the error kind (`ERR`, `NOSCRIPT`, `WRONGTYPE`…).
    case error(String)
    /// `:42`
    case integer(Int)
    /// `$5 hello`; `nil` for the null bulk string (a missing key).
    case bulk(ByteBuffer?)
    /// `*2 …`; `nil` for the null array.
    case array([RESPValue]?)

    /// The reply as text: bulk or simple strings, and integers.
    public var string: String? {
        switch self {
        case .simple(let text): return text
        case .bulk(let buffer?): return String(buffer: buffer)
        case .integer(let value): return String(value)
        default: return nil
        }
    }

    /// The reply as a number: integers, or strings that hold one.
    public var int: Int? {
        switch self {
        case .integer(let value): return value
        case .bulk(let buffer?): return Int(String(buffer: buffer))
        case .simple(let text): return Int(text)
        default: return nil
        }
    }

    /// The elements of an array reply.
    public var elements: [RESPValue]? {
        if case .array(let values?) = self { return values }
        return nil
    }

    /// True for the null bulk string and the null array.
    public var isNull: Bool {
        switch self {
        case .bulk(nil), .array(nil): return true
        default: return false
        }
    }
}

/// One argument of a Redis command: text or bytes, sent as a bulk string.
public enum RESPArgument: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case text(String)
    case bytes(ByteBuffer)

    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int) { self = .text(String(value)) }
    public static func int(_ value: Int) -> RESPArgument { .text(String(value)) }
}

/// Writes commands as RESP arrays of bulk strings.
enum RESPEncoder {
    static func write(_ command: [RESPArgument], into buffer: inout ByteBuffer) {
        buffer.writeStaticString("*")
        buffer.writeString(String(command.count))
        buffer.writeStaticString("\r\n")
        for argument in command {
            switch argument {
            case .text(let text):
                buffer.writeStaticString("$")
                buffer.writeString(String(text.utf8.count))
                buffer.writeStaticString("\r\n")
                buffer.writeString(text)
            case .bytes(var bytes):
                buffer.writeStaticString("$")
                buffer.writeString(String(bytes.readableBytes))
                buffer.writeStaticString("\r\n")
                buffer.writeBuffer(&bytes)
            }
            buffer.writeStaticString("\r\n")
        }
    }
}
