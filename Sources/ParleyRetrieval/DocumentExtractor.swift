import Foundation

/// What a document is, judged from its content (its name only breaks a tie between CSV and text).
public enum DocumentKind: String, Sendable, CaseIterable {
    case text, markdown, csv, tsv, json, html, pdf, docx, binary
}

/// Why a document's text could not be read: shown on the document, never a crash.
public struct ExtractionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Turns an uploaded file into a ``DocumentText``: the kind sniffed from the bytes, the text decoded (UTF-8 with or
/// without a byte-order mark, UTF-16 with one, else Latin-1), the structure read by the kind's reader.
public enum DocumentExtractor {
    public static func kind(of data: Data, name: String? = nil) -> DocumentKind {
        let head = data.prefix(8_192)
        if head.starts(with: Array("%PDF-".utf8)) { return .pdf }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            return head.range(of: Data("word/".utf8)) != nil || name?.lowercased().hasSuffix(".docx") == true ? .docx : .binary
        }
        let utf16 = head.starts(with: [0xFF, 0xFE]) || head.starts(with: [0xFE, 0xFF])
        if !utf16 && head.contains(0) { return .binary }
        let text = decode(head)
        let start = text.drop { $0.isWhitespace || $0 == "\u{FEFF}" }.prefix(512).lowercased()
        if start.hasPrefix("<!doctype html") || start.hasPrefix("<html") || start.hasPrefix("<head") || start.hasPrefix("<body") {
            return .html
        }
        if (start.hasPrefix("{") || start.hasPrefix("[")), (try? JSONSerialization.jsonObject(with: Data(decode(data).utf8),
                                                                                           options: [.fragmentsAllowed])) != nil {
            return .json
        }
        // Both are text, so the name may decide between them; without a name, the lines must agree on a delimiter.
        let lowered = name?.lowercased() ?? ""
        if lowered.hasSuffix(".tsv") || lowered.hasSuffix(".tab") { return .tsv }
        if lowered.hasSuffix(".csv") { return .csv }
        if name == nil, let delimiter = DelimitedStructure.detectDelimiter(text), text.filter(\.isNewline).count >= 2 {
            return delimiter == "\t" ? .tsv : .csv
        }
        if lowered.hasSuffix(".md") || lowered.hasSuffix(".markdown") || start.hasPrefix("#") || start.hasPrefix("---\n") {
            return .markdown
        }
        return .text
    }

    /// The text and structure of `data`; throws ``ExtractionError`` for kinds without a reader and for content that
    /// holds no text.
    public static func extract(_ data: Data, name: String? = nil) throws -> (kind: DocumentKind, document: DocumentText) {
        let kind = kind(of: data, name: name)
        let document: DocumentText
        switch kind {
        case .text, .markdown:
            document = MarkdownStructure.read(decode(data))
        case .csv, .tsv:
            let text = decode(data)
            document = DelimitedStructure.read(text, delimiter: kind == .tsv ? "\t" : (DelimitedStructure.detectDelimiter(text) ?? ","))
        case .json:
            guard let read = JSONStructure.read(decode(data)) else { throw ExtractionError("the JSON could not be read") }
            document = read
        case .html:
            document = HTMLStructure.read(decode(data))
        case .docx:
            document = try DOCXStructure.read(data)
        case .pdf:
            document = try PDFText.read(data)
        case .binary:
            throw ExtractionError("the file is not a document Parley can read (binary content)")
        }
        guard document.blocks.contains(where: { !document.text[$0.range].allSatisfy(\.isWhitespace) }) else {
            throw ExtractionError("the document holds no text")
        }
        return (kind, document)
    }

    /// UTF-16 when a byte-order mark says so, else UTF-8 (a mark dropped), else Latin-1, which every byte is.
    static func decode(_ data: Data) -> String {
        if data.starts(with: [0xFF, 0xFE]) || data.starts(with: [0xFE, 0xFF]) {
            return String(data: data, encoding: .utf16) ?? String(decoding: data, as: UTF8.self)
        }
        let body = data.starts(with: [0xEF, 0xBB, 0xBF]) ? data.dropFirst(3) : data[...]
        if let text = String(data: body, encoding: .utf8) { return text }
        return String(body.map { Character(Unicode.Scalar($0)) })
    }
}
