import Foundation
import ParleyCore

/// The pinned documents of a chat's knowledge bases, given whole to the model: each document's text put back
/// together from its passages (their overlaps removed, page changes marked), numbered as one source, and cut
/// where the token budget ends.
enum PinnedDocuments {
    /// Characters of a pinned document stored on the answer as its source's text: the beginning, to show.
    static let shownCharacters = 600

    /// The numbered sources (from 1) and the blocks the model reads, for `passages` in document then reading order;
    /// `spent` grows by what they cost.
    static func sources(from passages: [StoredPassage], tokenBudget: Int, spent: inout Int)
        -> (sources: [GroundingSource], blocks: [String])
    {
        var sources: [GroundingSource] = []
        var blocks: [String] = []
        var index = passages.startIndex
        while index < passages.endIndex {
            let documentID = passages[index].documentID
            let end = passages[index...].firstIndex { $0.documentID != documentID } ?? passages.endIndex
            let document = passages[index..<end]
            index = end
            let first = document[document.startIndex]
            let header = "[\(sources.count + 1)] \(first.documentName) (the whole document)"
            let available = tokenBudget - spent - TokenEstimator.tokens(in: header) - 1
            guard available >= minimumTokens else { break }
            let (text, through) = joined(document, maxUTF8: available * 4 - cutNote.utf8.count)
            guard !text.isEmpty else { break }
            let block = header + "\n" + text
            spent += TokenEstimator.tokens(in: block)
            blocks.append(block)
            let shown = text.count > shownCharacters ? String(text.prefix(shownCharacters)) + "…" : text
            sources.append(GroundingSource(
                n: sources.count + 1, passageID: first.id, knowledgeBaseID: first.baseID.lowercased,
                documentID: documentID.lowercased, documentName: first.documentName, page: first.page, headingPath: [],
                start: first.start, end: through, text: shown, score: 1, pinned: true))
        }
        return (sources, blocks)
    }

    /// Ends a document cut at the budget, so the model knows it did not read all of it.
    static let cutNote = "\n[… the rest of the document did not fit]"

    /// A pinned document gets a place only if at least this much of it fits.
    static let minimumTokens = 64

    /// Where the whole of `source`'s document ends (the end of its last passage).
    static func wholeEnd(_ source: GroundingSource, in passages: [StoredPassage]) -> Int {
        passages.last { $0.documentID.lowercased == source.documentID }?.end ?? source.end
    }

    /// The document's text from its passages in reading order, at most `maxUTF8` bytes (cut at a line break when
    /// one is near), and the offset it reaches.
    static func joined(_ passages: ArraySlice<StoredPassage>, maxUTF8: Int) -> (text: String, through: Int) {
        var text = ""
        var covered = passages.first?.start ?? 0
        var page: Int? = passages.first?.page
        for passage in passages {
            guard passage.end > covered || text.isEmpty else { continue }
            var piece = Substring(passage.text)
            var pieceStart = passage.start
            if !text.isEmpty {
                if passage.start >= covered {
                    text += "\n\n"
                } else {
                    // The passage overlaps the one before: keep only what is new.
                    let utf16 = passage.text.utf16
                    let skip = utf16.index(utf16.startIndex, offsetBy: covered - passage.start, limitedBy: utf16.endIndex) ?? utf16.endIndex
                    piece = passage.text[(String.Index(skip, within: passage.text) ?? passage.text.endIndex)...]
                    pieceStart = covered
                }
                if let next = passage.page, next != page {
                    text += "\n(page \(next))\n"
                    page = next
                }
            }
            if text.utf8.count + piece.utf8.count > maxUTF8 {
                var room = max(0, maxUTF8 - text.utf8.count)
                var cut = piece.startIndex
                while cut < piece.endIndex, piece[cut].utf8.count <= room {
                    room -= piece[cut].utf8.count
                    cut = piece.index(after: cut)
                }
                var kept = piece[..<cut]
                if let lineBreak = kept.lastIndex(of: "\n"), kept.distance(from: lineBreak, to: kept.endIndex) < 400 {
                    kept = kept[..<lineBreak]
                }
                text += kept + cutNote
                return (text, pieceStart + kept.utf16.count)
            }
            text += piece
            covered = passage.end
        }
        return (text, covered)
    }
}
