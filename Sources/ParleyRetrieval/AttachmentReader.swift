import Crypto
import Foundation
import ParleyCore

/// Reads a file a user attaches to a message: its type from its content, never from its name. Images (PNG, JPEG,
/// GIF, WebP) are kept as they are for vision models; documents (text, Markdown, code, CSV, JSON, HTML, PDF, DOCX)
/// give their text. The first bytes decide whether an upload is acceptable at all, so a wrong one is refused
/// before the rest of it arrives.
public enum AttachmentReader {
    /// How much of an upload ``judge(head:)`` wants to see (less only when the whole file is shorter).
    public static let headBytes = 512

    /// What the first bytes say.
    public enum Verdict: Sendable, Equatable {
        case image(mediaType: String)
        /// A document whose text is read once the whole file is in.
        case document
        case refused(reason: String)
    }

    public static func judge(head: some Collection<UInt8>) -> Verdict {
        let bytes = Array(head.prefix(headBytes))
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .image(mediaType: "image/png") }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .image(mediaType: "image/jpeg") }
        if bytes.starts(with: Array("GIF87a".utf8)) || bytes.starts(with: Array("GIF89a".utf8)) { return .image(mediaType: "image/gif") }
        if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) {
            return .image(mediaType: "image/webp")
        }
        if bytes.starts(with: Array("%PDF-".utf8)) || bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return .document }
        let utf16 = bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF])
        if bytes.isEmpty { return .refused(reason: "the file is empty") }
        if !utf16 && bytes.contains(0) {
            return .refused(reason: "only images (PNG, JPEG, GIF, WebP) and documents (text, Markdown, code, CSV, JSON, "
                + "HTML, PDF, DOCX) can be attached; this file is neither")
        }
        return .document
    }

    /// The attachment to store from a whole upload judged `verdict`: an image as it is, a document with its text,
    /// both with the SHA-256 of their bytes — worked out on threads of their own, not Swift's cooperative pool (a
    /// 20 MiB file takes tens of milliseconds to hash). Throws ``ExtractionError`` when a document's text cannot be
    /// read.
    public static func read(_ data: Data, name: String, verdict: Verdict) async throws -> NewAttachment {
        try await OffPool.run(.interactive) {
            let digest = Hex.encode(SHA256.hash(data: data))
            switch verdict {
            case .refused(let reason):
                throw ExtractionError(reason)
            case .image(let mediaType):
                return NewAttachment(name: name, mediaType: mediaType, kind: .image, bytes: data, sha256: digest, text: nil)
            case .document:
                let (kind, document) = try DocumentExtractor.extract(data, name: name)
                // (NUL cannot be stored in PostgreSQL's text, and means nothing to a model.)
                return NewAttachment(name: name, mediaType: mediaType(of: kind), kind: .file, bytes: data, sha256: digest,
                                     text: document.text.replacingOccurrences(of: "\u{0}", with: ""))
            }
        }
    }

    static func mediaType(of kind: DocumentKind) -> String {
        switch kind {
        case .text: "text/plain"
        case .markdown: "text/markdown"
        case .csv: "text/csv"
        case .tsv: "text/tab-separated-values"
        case .json: "application/json"
        case .html: "text/html"
        case .pdf: "application/pdf"
        case .docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        case .binary: "application/octet-stream"
        }
    }
}
