/// A small tokenizer for HTML and XML: start tags with their attributes, end tags, and text with the common
/// character references decoded. Comments, doctypes and processing instructions are skipped; CDATA is text.
/// It never fails: malformed markup is read as far as it makes sense, the rest as text.
struct MarkupScanner {
    enum Token: Equatable {
        /// A start tag (lowercased name for HTML); `selfClosing` for `<br/>`.
        case start(String, [String: String], selfClosing: Bool)
        case end(String)
        case text(String)
    }

    private let scalars: [Unicode.Scalar]
    private var position = 0
    let lowercaseNames: Bool

    init(_ text: String, lowercaseNames: Bool) {
        scalars = Array(text.unicodeScalars)
        self.lowercaseNames = lowercaseNames
    }

    mutating func next() -> Token? {
        guard position < scalars.count else { return nil }
        if scalars[position] == "<", let token = tag() { return token }
        var text = String.UnicodeScalarView()
        // A "<" that starts no tag is text.
        if scalars[position] == "<" { text.append("<"); position += 1 }
        while position < scalars.count, scalars[position] != "<" {
            if scalars[position] == "&", let decoded = reference() {
                text.append(contentsOf: decoded.unicodeScalars)
            } else {
                text.append(scalars[position])
                position += 1
            }
        }
        return .text(String(text))
    }

    /// Skips the raw text of `<script>` or `<style>` up to its end tag.
    mutating func skipRawText(until name: String) {
        let closing = Array("</\(name)".unicodeScalars)
        while position < scalars.count, !matches(closing, at: position, ignoringCase: true) { position += 1 }
    }

    private mutating func tag() -> Token? {
        let start = position
        position += 1
        guard position < scalars.count else { position = start; return nil }
        if starts(with: "!--") {
            position = find("-->").map { $0 + 3 } ?? scalars.count
            return next() ?? .text("")
        }
        if starts(with: "![CDATA[") {
            let from = position + 8
            let to = find("]]>") ?? scalars.count
            position = min(scalars.count, to + 3)
            return .text(String(String.UnicodeScalarView(scalars[from..<to])))
        }
        if scalars[position] == "!" || scalars[position] == "?" {
            position = find(">").map { $0 + 1 } ?? scalars.count
            return next() ?? .text("")
        }
        let closing = scalars[position] == "/"
        if closing { position += 1 }
        let name = readName()
        guard !name.isEmpty else { position = start; return nil }
        var attributes: [String: String] = [:]
        var selfClosing = false
        while position < scalars.count, scalars[position] != ">" {
            if scalars[position] == "/" { selfClosing = true; position += 1; continue }
            if scalars[position].properties.isWhitespace { position += 1; continue }
            let attribute = readName()
            guard !attribute.isEmpty else { position += 1; continue }
            var value = ""
            skipWhitespace()
            if position < scalars.count, scalars[position] == "=" {
                position += 1
                skipWhitespace()
                value = readValue()
            }
            attributes[attribute] = value
        }
        position = min(scalars.count, position + 1)
        return closing ? .end(name) : .start(name, attributes, selfClosing: selfClosing)
    }

    private mutating func readName() -> String {
        var name = String.UnicodeScalarView()
        while position < scalars.count {
            let scalar = scalars[position]
            guard scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == ":" || scalar == "-"
                    || scalar == "_" || scalar == "." else { break }
            name.append(scalar)
            position += 1
        }
        let text = String(name)
        return lowercaseNames ? text.lowercased() : text
    }

    private mutating func readValue() -> String {
        guard position < scalars.count else { return "" }
        var value = String.UnicodeScalarView()
        if scalars[position] == "\"" || scalars[position] == "'" {
            let quote = scalars[position]
            position += 1
            while position < scalars.count, scalars[position] != quote {
                if scalars[position] == "&", let decoded = reference() { value.append(contentsOf: decoded.unicodeScalars); continue }
                value.append(scalars[position])
                position += 1
            }
            position += 1
        } else {
            while position < scalars.count, !scalars[position].properties.isWhitespace, scalars[position] != ">" {
                value.append(scalars[position])
                position += 1
            }
        }
        return String(value)
    }

    /// A character reference at `position` (`&amp;`, `&#233;`, `&#xE9;`), consumed; nil when there is none.
    private mutating func reference() -> String? {
        var end = position + 1
        while end < scalars.count, end - position <= 10, scalars[end] != ";" { end += 1 }
        guard end < scalars.count, scalars[end] == ";" else { return nil }
        let body = String(String.UnicodeScalarView(scalars[position + 1..<end]))
        var decoded: String?
        if body.hasPrefix("#x") || body.hasPrefix("#X") {
            decoded = UInt32(body.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String($0) }
        } else if body.hasPrefix("#") {
            decoded = UInt32(body.dropFirst()).flatMap(Unicode.Scalar.init).map { String($0) }
        } else {
            decoded = Self.entities[body]
        }
        guard let decoded else { return nil }
        position = end + 1
        return decoded
    }

    static let entities = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}", "copy": "©",
                           "reg": "®", "mdash": "—", "ndash": "–", "hellip": "…", "lsquo": "‘", "rsquo": "’",
                           "ldquo": "“", "rdquo": "”", "euro": "€", "times": "×", "middot": "·", "bull": "•"]

    private func starts(with text: String) -> Bool { matches(Array(text.unicodeScalars), at: position) }

    private func find(_ text: String) -> Int? {
        let pattern = Array(text.unicodeScalars)
        var index = position
        while index + pattern.count <= scalars.count {
            if matches(pattern, at: index) { return index }
            index += 1
        }
        return nil
    }

    /// Whether `pattern` stands at `index` (ASCII letters in any case when `ignoringCase`).
    private func matches(_ pattern: [Unicode.Scalar], at index: Int, ignoringCase: Bool = false) -> Bool {
        guard index + pattern.count <= scalars.count else { return false }
        for (offset, expected) in pattern.enumerated() {
            let found = scalars[index + offset]
            if found == expected { continue }
            if ignoringCase, found.isASCII, expected.isASCII, found.value | 0x20 == expected.value | 0x20 { continue }
            return false
        }
        return true
    }

    private mutating func skipWhitespace() {
        while position < scalars.count, scalars[position].properties.isWhitespace { position += 1 }
    }
}
