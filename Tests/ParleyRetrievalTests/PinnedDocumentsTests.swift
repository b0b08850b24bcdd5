import Foundation
import ParleyCore
@testable import ParleyRetrieval
import Testing

/// A pinned document is given to the model whole: its text put back together from its overlapping passages,
/// page changes marked, and cut at the budget with a note saying so.
@Suite struct PinnedDocumentsTests {
    static let documentID = UUID()

    static func passages(of text: String, name: String = "guide.md", documentID: UUID = documentID,
                         chunker: Chunker = Chunker(maxTokens: 80, overlapTokens: 30)) -> [StoredPassage] {
        chunker.chunks(of: MarkdownStructure.read(text)).enumerated().map { ordinal, chunk in
            StoredPassage(id: Int64(ordinal + 1), baseID: UUID(), documentID: documentID, documentName: name, ordinal: ordinal,
                          text: chunk.text, headingPath: chunk.headingPath, page: chunk.page, start: chunk.start, end: chunk.end)
        }
    }

    static let guide = "# Guide\n\n"
        + (1...40).map { "Paragraph \($0) talks about café ☕️ and the number \($0 * 7) in a few more words." }.joined(separator: "\n\n")
        + "\n\n## Next\n\nLast words."

    @Test func overlappingPassagesJoinIntoTheDocumentOnce() throws {
        let passages = Self.passages(of: Self.guide)
        #expect(passages.count > 5 && zip(passages, passages.dropFirst()).contains { $1.start < $0.end }, "the passages overlap")
        let (text, through) = PinnedDocuments.joined(passages[...], maxUTF8: 1 << 20)
        #expect(text == Self.guide, "every word once, in order")
        #expect(through == passages.last?.end)
    }

    @Test func aDocumentTooLongForTheBudgetIsCutAndSaysSo() throws {
        let passages = Self.passages(of: Self.guide)
        var spent = 0
        let (sources, blocks) = PinnedDocuments.sources(from: passages, tokenBudget: 200, spent: &spent)
        let source = try #require(sources.first)
        #expect(sources.count == 1 && source.pinned == true && source.n == 1 && source.documentName == "guide.md")
        #expect(spent <= 200 && spent > 100)
        let block = try #require(blocks.first)
        #expect(block.hasPrefix("[1] guide.md (the whole document)\n# Guide\n\nParagraph 1 talks"))
        #expect(block.hasSuffix(PinnedDocuments.cutNote))
        #expect(source.end < passages.last!.end && source.end > 0)
        let utf16 = Array(Self.guide.utf16)
        let kept = String(decoding: utf16[source.start..<source.end], as: UTF16.self)
        #expect(block.contains(kept), "the offsets say how far the model read")
        #expect(source.text.count <= PinnedDocuments.shownCharacters + 1)
    }

    @Test func severalDocumentsAreNumberedInOrderAndAFullBudgetStops() throws {
        let other = UUID()
        let passages = Self.passages(of: "# Short\n\nOnly this.") + Self.passages(of: Self.guide, name: "long.md", documentID: other)
        var spent = 0
        let (sources, _) = PinnedDocuments.sources(from: passages, tokenBudget: 10_000, spent: &spent)
        #expect(sources.map(\.n) == [1, 2] && sources.map(\.documentName) == ["guide.md", "long.md"])
        #expect(sources[1].end == passages.last?.end, "the long one fits whole")
        var tight = 0
        let (few, _) = PinnedDocuments.sources(from: passages, tokenBudget: 85, spent: &tight)
        #expect(few.count == 1, "a document that cannot get \(PinnedDocuments.minimumTokens) tokens is left out")
    }

    @Test func pageChangesAreMarked() {
        let id = UUID()
        let pages = [(1, "First page words."), (2, "Second page words."), (3, "Third page words.")]
        var offset = 0
        let passages = pages.enumerated().map { index, page in
            defer { offset += page.1.utf16.count + 2 }
            return StoredPassage(id: Int64(index), baseID: id, documentID: id, documentName: "report.pdf", ordinal: index,
                                 text: page.1, headingPath: [], page: page.0, start: offset, end: offset + page.1.utf16.count)
        }
        let (text, _) = PinnedDocuments.joined(passages[...], maxUTF8: 1 << 20)
        #expect(text == "First page words.\n\n\n(page 2)\nSecond page words.\n\n\n(page 3)\nThird page words.")
    }
}
