/// Lowercase hexadecimal text of bytes (digests, key ids).
public enum Hex {
    /// Inlinable, so each caller gets a copy specialized for its byte sequence (a digest is read a byte at a time
    /// through its iterator; unspecialized, that cost hundreds of instructions per byte).
    @inlinable
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            text.append(digit(byte >> 4))
            text.append(digit(byte & 0x0F))
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The lowercase hex digit of `value` (0–15).
    @inlinable
    public static func digit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}
