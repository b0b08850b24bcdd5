/// A document's text as extracted, and its structure: headings, paragraphs, list items, code, table rows, each
/// with its place in the text and its page. Every extractor (Markdown and plain text, HTML, PDF, DOCX, CSV, JSON)
/// produces one; the ``Chunker`` reads it.
public struct DocumentText: Sendable {
    /// The whole text; block ranges and chunk offsets point into it.
    public let text: String
    public let blocks: [DocumentBlock]
    /// Pages, for formats that have them (PDF; a form feed in text); nil otherwise.
    public let pageCount: Int?

    public init(text: String, blocks: [DocumentBlock], pageCount: Int?) {
        self.text = text
        self.blocks = blocks
        self.pageCount = pageCount
    }
}

/// One structural piece of a document.
public struct DocumentBlock: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case heading(level: Int)
        case paragraph
        case listItem
        case code
        /// A table's first row, which the chunks of its other rows carry along.
        case tableHeader
        case tableRow
    }

    public var kind: Kind
    /// Where the block is in ``DocumentText/text``.
    public var range: Range<String.Index>
    /// The page the block starts on, from 1 (1 for documents without pages).
    public var page: Int
    /// A heading's words, without its markup (`## Install` → `Install`); nil for other blocks.
    public var title: String?

    public init(kind: Kind, range: Range<String.Index>, page: Int, title: String? = nil) {
        self.kind = kind
        self.range = range
        self.page = page
        self.title = title
    }
}
