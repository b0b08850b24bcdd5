import ParleyCore

/// Cuts a document into passages that follow its structure: a heading starts a new passage, a passage never
/// spans two pages, paragraphs, list items, code blocks and table rows are kept whole while they fit, and a
/// passage holds at most `maxTokens`. Consecutive passages of one section share up to `overlapTokens` of text
/// (whole blocks; sentences when a single block is too long for one passage), so a fact cut by a boundary is whole
/// in one of them.
public struct Chunker: Sendable {
    public var maxTokens: Int
    public var overlapTokens: Int

    public init(maxTokens: Int = 320, overlapTokens: Int = 48) {
        precondition(maxTokens > 0 && overlapTokens >= 0 && overlapTokens < maxTokens, "overlap must be under the size")
        self.maxTokens = maxTokens
        self.overlapTokens = overlapTokens
    }

    public func chunks(of document: DocumentText) -> [Chunk] {
        var builder = Builder(document: document, chunker: self)
        for block in document.blocks { builder.take(block) }
        builder.flush(overlap: false)
        return builder.chunks
    }

    private struct Piece {
        var range: Range<String.Index>
        var tokens: Int
        var isHeading: Bool
    }

    private struct Builder {
        let document: DocumentText
        let chunker: Chunker
        var chunks: [Chunk] = []
        var pieces: [Piece] = []
        var headings: [(level: Int, title: String)] = []
        var page = 1
        var tableHeader: (range: Range<String.Index>, page: Int)?

        init(document: DocumentText, chunker: Chunker) {
            self.document = document
            self.chunker = chunker
        }

        var text: String { document.text }

        mutating func take(_ block: DocumentBlock) {
            if block.page != page {
                flush(overlap: false)
                page = block.page
            }
            switch block.kind {
            case .heading(let level):
                flush(overlap: false)
                headings.removeAll { $0.level >= level }
                headings.append((level, block.title ?? ""))
                tableHeader = nil
                pieces = [Piece(range: block.range, tokens: tokens(block.range), isHeading: true)]
                return
            case .tableHeader:
                tableHeader = (block.range, block.page)
            case .tableRow:
                break
            default:
                tableHeader = nil
            }
            let size = tokens(block.range)
            if size <= chunker.maxTokens {
                add(Piece(range: block.range, tokens: size, isHeading: false))
            } else {
                for part in split(block.range) { add(Piece(range: part, tokens: tokens(part), isHeading: false)) }
            }
        }

        mutating func add(_ piece: Piece) {
            if pieces.contains(where: { !$0.isHeading }) && pieces.reduce(0, { $0 + $1.tokens }) + piece.tokens > chunker.maxTokens {
                flush(overlap: true)
            }
            // Overlap never pushes a passage over the limit.
            while !pieces.isEmpty && pieces.reduce(0, { $0 + $1.tokens }) + piece.tokens > chunker.maxTokens {
                pieces.removeFirst()
            }
            pieces.append(piece)
        }

        /// Emits the passage being built; with `overlap`, its last whole blocks up to `overlapTokens` begin the next.
        mutating func flush(overlap: Bool) {
            defer { if !overlap { pieces = [] } }
            guard let first = pieces.first, let last = pieces.last, pieces.contains(where: { !$0.isHeading }) else { return }
            let range = first.range.lowerBound..<last.range.upperBound
            let header = tableHeader.flatMap { header in
                header.range.upperBound <= first.range.lowerBound ? String(text[header.range]) : nil
            }
            chunks.append(Chunk(text: String(text[range]), headingPath: headings.map(\.title),
                                page: document.pageCount == nil ? nil : page,
                                start: text.utf16.distance(from: text.startIndex, to: range.lowerBound),
                                end: text.utf16.distance(from: text.startIndex, to: range.upperBound),
                                tableHeader: header, tokens: tokens(range)))
            guard overlap else { return }
            var kept: [Piece] = [], size = 0
            for piece in pieces.dropFirst().reversed() where !piece.isHeading {
                guard size + piece.tokens <= chunker.overlapTokens else { break }
                kept.insert(piece, at: 0)
                size += piece.tokens
            }
            pieces = kept
        }

        func tokens(_ range: Range<String.Index>) -> Int { TokenEstimator.tokens(in: String(text[range])) }

        /// A block too long for one passage, cut at sentence ends (else at spaces, else anywhere) into parts of at
        /// most `maxTokens`, each starting up to `overlapTokens` before the previous one ended.
        func split(_ range: Range<String.Index>) -> [Range<String.Index>] {
            let utf8 = text.utf8
            let maxBytes = chunker.maxTokens * 4, overlapBytes = chunker.overlapTokens * 4
            var parts: [Range<String.Index>] = []
            var start = range.lowerBound
            while start < range.upperBound {
                var limit = aligned(utf8.index(start, offsetBy: maxBytes, limitedBy: range.upperBound) ?? range.upperBound)
                if limit <= start { limit = text.index(after: start) }
                var end = limit
                if limit < range.upperBound {
                    end = lastBreak(in: start..<limit, sentences: true) ?? lastBreak(in: start..<limit, sentences: false) ?? limit
                }
                parts.append(start..<end)
                guard end < range.upperBound else { break }
                // The next part starts at the first break after `end - overlap`, and always after `start`.
                let back = aligned(utf8.index(end, offsetBy: -overlapBytes, limitedBy: start) ?? start)
                let next = firstBreak(in: back..<end) ?? end
                start = next > start ? next : end
            }
            return parts
        }

        /// The character boundary at or before `index`.
        func aligned(_ index: String.Index) -> String.Index {
            var index = index
            while index > text.startIndex && index.samePosition(in: text) == nil { index = text.utf8.index(before: index) }
            return index
        }

        /// The index just after the last sentence end (or space) in `range`, past its first quarter.
        func lastBreak(in range: Range<String.Index>, sentences: Bool) -> String.Index? {
            var index = range.upperBound
            let floor = text.utf8.index(range.lowerBound, offsetBy: text.utf8.distance(from: range.lowerBound, to: range.upperBound) / 4)
            while index > floor {
                let previous = text.index(before: index)
                if isBreak(at: previous, sentences: sentences) { return index }
                index = previous
            }
            return nil
        }

        /// The index just after the first sentence end or space in `range`.
        func firstBreak(in range: Range<String.Index>) -> String.Index? {
            var index = range.lowerBound
            while index < range.upperBound {
                if isBreak(at: index, sentences: false) { return text.index(after: index) }
                index = text.index(after: index)
            }
            return nil
        }

        /// A space after `.`, `!` or `?`, a line break, or an ideographic full stop (with `sentences`); any white
        /// space otherwise.
        func isBreak(at index: String.Index, sentences: Bool) -> Bool {
            let character = text[index]
            guard sentences else { return character.isWhitespace }
            if character == "。" || character.isNewline { return true }
            guard character.isWhitespace, index > text.startIndex else { return false }
            return ".!?".contains(text[text.index(before: index)])
        }
    }
}
