/// The one way Parley reads a number that came from outside the process — a header, a query string, a cursor,
/// a config value, an upstream's reply, a notice from another replica.
///
/// Every value is parsed strictly (ASCII digits, no signs a range does not allow, no `inf`/`nan`) and must fall
/// inside the range the caller names, so arithmetic done on it afterwards cannot overflow or trap.
public enum CheckedNumber {
    /// The largest event id, offset or count a client may name: far beyond anything real, far below `Int.max`.
    public static let wholeLimit = Int(Int32.max)

    /// A whole number written as ASCII digits (a leading `-` only when `range` reaches below zero), spaces and
    /// tabs around it ignored; `nil` for anything else or a value outside `range`.
    public static func integer(_ text: some StringProtocol, in range: ClosedRange<Int>) -> Int? {
        var digits = Substring(text).utf8[...]
        while let first = digits.first, first == 0x20 || first == 0x09 { digits = digits.dropFirst() }
        while let last = digits.last, last == 0x20 || last == 0x09 { digits = digits.dropLast() }
        var negative = false
        if digits.first == UInt8(ascii: "-") {
            guard range.lowerBound < 0 else { return nil }
            negative = true
            digits = digits.dropFirst()
        }
        // 18 digits always fit in an Int; longer (leading zeros aside) is out of any range we use.
        while digits.count > 1, digits.first == UInt8(ascii: "0") { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        var value = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        if negative { value = -value }
        return range.contains(value) ? value : nil
    }

    /// A decimal number (`12`, `0.5`, `1e3`), finite and inside `range`; `nil` for anything else (`inf`, `nan`,
    /// hexadecimal, empty).
    public static func decimal(_ text: some StringProtocol, in range: ClosedRange<Double>) -> Double? {
        let trimmed = Substring(text).trimmingSpacesAndTabs
        guard !trimmed.isEmpty, trimmed.utf8.count <= 64,
              trimmed.utf8.allSatisfy({ byte in
                  (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: ".")
                      || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") || byte == UInt8(ascii: "-")
                      || byte == UInt8(ascii: "+")
              }),
              let value = Double(trimmed), value.isFinite, range.contains(value) else { return nil }
        return value
    }

    /// `value` pulled into `range`: for numbers that are trusted to exist but not to be sane (an upstream's token
    /// counts, another replica's offsets).
    public static func clamped(_ value: Int, to range: ClosedRange<Int>) -> Int {
        min(max(value, range.lowerBound), range.upperBound)
    }
}

extension Duration {
    /// `seconds` as a duration, for a value already checked to be finite and in a sane range (see
    /// ``CheckedNumber/decimal(_:in:)``); anything else becomes zero rather than a trap.
    public static func checkedSeconds(_ seconds: Double) -> Duration {
        guard seconds.isFinite, seconds >= 0, seconds < 1e12 else { return .zero }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}

extension Substring {
    var trimmingSpacesAndTabs: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
