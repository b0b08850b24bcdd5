import Foundation

/// What an attachment is to a model: an image goes to a vision model as an image part; a file's text goes into
/// the context.
public enum AttachmentKind: String, Sendable, Codable, Equatable {
    case image, file
}

/// A file a user attached (or will attach) to a message. Stored once per owner by the SHA-256 of its bytes.
public struct Attachment: Sendable, Equatable {
    public var id: UUID
    public var ownerID: UserID
    /// The name it was uploaded with (for display only; its type is read from its content).
    public var name: String
    /// The media type read from its content: `image/png`, `application/pdf`, `text/plain`…
    public var mediaType: String
    public var kind: AttachmentKind
    public var byteCount: Int
    /// Hex SHA-256 of the bytes.
    public var sha256: String
    /// A file's text as read at upload (nil for an image).
    public var text: String?
    public var createdAt: Date

    public init(id: UUID, ownerID: UserID, name: String, mediaType: String, kind: AttachmentKind, byteCount: Int,
                sha256: String, text: String?, createdAt: Date) {
        self.id = id
        self.ownerID = ownerID
        self.name = name
        self.mediaType = mediaType
        self.kind = kind
        self.byteCount = byteCount
        self.sha256 = sha256
        self.text = text
        self.createdAt = createdAt
    }

    /// How the message that carries it records it.
    public var reference: AttachmentReference {
        AttachmentReference(id: id, name: name, mediaType: mediaType, kind: kind, size: byteCount,
                            tokens: AttachmentReference.tokens(kind: kind, textBytes: text?.utf8.count ?? 0))
    }
}

/// An attachment as a message records it: what to show and what it costs in the context, not its bytes.
public struct AttachmentReference: Sendable, Equatable, Codable {
    public var id: UUID
    public var name: String
    public var mediaType: String
    public var kind: AttachmentKind
    /// Bytes.
    public var size: Int
    /// Its estimated cost in the context (a file's text, or an image's flat estimate).
    public var tokens: Int

    public init(id: UUID, name: String, mediaType: String, kind: AttachmentKind, size: Int, tokens: Int) {
        self.id = id
        self.name = name
        self.mediaType = mediaType
        self.kind = kind
        self.size = size
        self.tokens = tokens
    }

    enum CodingKeys: String, CodingKey {
        case id, name, kind, size, tokens
        case mediaType = "media_type"
    }

    /// What an attachment costs in the context: an image its flat estimate, a file its text's (of `textBytes`
    /// bytes of UTF-8, counted as ``TokenEstimator`` counts text).
    public static func tokens(kind: AttachmentKind, textBytes: Int) -> Int {
        kind == .image ? TokenEstimator.imageTokens : (textBytes + 3) / 4
    }

    /// The references as a message's column holds them (JSON); nil for none.
    public static func column(_ references: [AttachmentReference]) -> String? {
        guard !references.isEmpty, let data = try? JSONEncoder().encode(references) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The references a message's column holds (none for NULL or unreadable text).
    public static func references(column: String?) -> [AttachmentReference] {
        guard let column, !column.isEmpty else { return [] }
        return (try? JSONDecoder().decode([AttachmentReference].self, from: Data(column.utf8))) ?? []
    }
}

/// An attachment to store: its bytes (with their hex SHA-256), what they were read as, and a file's text.
public struct NewAttachment: Sendable {
    public var name: String
    public var mediaType: String
    public var kind: AttachmentKind
    public var bytes: Data
    public var sha256: String
    public var text: String?
    public init(name: String, mediaType: String, kind: AttachmentKind, bytes: Data, sha256: String, text: String?) {
        self.name = name
        self.mediaType = mediaType
        self.kind = kind
        self.bytes = bytes
        self.sha256 = sha256
        self.text = text
    }
}

/// Where attachments are kept. Every call is scoped by owner: another user's attachment is `notFound`.
public protocol AttachmentStore: Sendable {
    /// Stores the attachment, unless the owner already has one with the same bytes (same SHA-256): that one is
    /// returned instead, with `duplicate` true.
    func saveAttachment(_ new: NewAttachment, owner: UserID) async throws -> (attachment: Attachment, duplicate: Bool)
    /// The attachment without its bytes (a file's text included).
    func attachment(id: UUID, owner: UserID) async throws -> Attachment
    /// How a message records the attachment, read without its bytes or its text (their sizes come from the database).
    func attachmentReference(id: UUID, owner: UserID) async throws -> AttachmentReference
    /// The attachment's bytes.
    func attachmentBytes(id: UUID, owner: UserID) async throws -> (attachment: Attachment, bytes: Data)
    /// Deletes the attachment; messages that carried it keep its name, its bytes are gone.
    func deleteAttachment(id: UUID, owner: UserID) async throws
}

/// Model names matched against shell-style patterns (`*` any run of characters, case-insensitive): which models
/// take images.
public struct ModelNamePatterns: Sendable, Equatable {
    public private(set) var patterns: [String]
    /// The patterns' bytes, kept so that a chat turn's check makes no arrays.
    private let compiled: [[UInt8]]

    public init(_ patterns: [String]) {
        self.patterns = patterns.map { $0.lowercased() }.filter { !$0.isEmpty }
        compiled = self.patterns.map { Array($0.utf8) }
    }

    public static func == (lhs: ModelNamePatterns, rhs: ModelNamePatterns) -> Bool { lhs.patterns == rhs.patterns }

    public func matches(_ name: String) -> Bool {
        // ASCII letters are lowered as they are compared; other letters (rare in a model's name) here.
        var name = name.utf8.allSatisfy { $0 < 0x80 } ? name : name.lowercased()
        return name.withUTF8 { text in
            compiled.contains { pattern in pattern.withUnsafeBufferPointer { Self.glob($0, text) } }
        }
    }

    /// `*` matches any run of bytes; ASCII letters of `text` are compared as lowercase (the patterns are lowercase).
    private static func glob(_ pattern: UnsafeBufferPointer<UInt8>, _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        var patternIndex = 0, textIndex = 0
        var star: (pattern: Int, text: Int)?
        while textIndex < text.count {
            let character = text[textIndex].asciiLowercased
            if patternIndex < pattern.count, pattern[patternIndex] == UInt8(ascii: "*") {
                patternIndex += 1
                star = (patternIndex, textIndex)
            } else if patternIndex < pattern.count, pattern[patternIndex] == character {
                patternIndex += 1
                textIndex += 1
            } else if let saved = star {
                patternIndex = saved.pattern
                textIndex = saved.text + 1
                star = (saved.pattern, textIndex)
            } else {
                return false
            }
        }
        return pattern[patternIndex...].allSatisfy { $0 == UInt8(ascii: "*") }
    }
}
