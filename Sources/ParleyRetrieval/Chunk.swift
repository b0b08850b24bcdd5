/// A passage of a document, the unit that is indexed, retrieved and cited.
public struct Chunk: Sendable, Equatable {
    /// The passage exactly as it stands in the document's text.
    public var text: String
    /// The headings it sits under, outermost first.
    public var headingPath: [String]
    /// The page it starts on, for documents with pages.
    public var page: Int?
    /// Where it is in the document's text, in UTF-16 code units (as JavaScript counts).
    public var start: Int
    public var end: Int
    /// The header row of the table its rows belong to, when it starts inside a table.
    public var tableHeader: String?
    /// Its size in estimated tokens.
    public var tokens: Int

    public init(text: String, headingPath: [String], page: Int?, start: Int, end: Int, tableHeader: String? = nil, tokens: Int) {
        self.text = text
        self.headingPath = headingPath
        self.page = page
        self.start = start
        self.end = end
        self.tableHeader = tableHeader
        self.tokens = tokens
    }
}
