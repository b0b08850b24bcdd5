import ParleyCore
import ParleyRetrieval
import Testing

@Suite struct ChunkingTests {
    static let manual = """
        Parley Manual
        =============

        Intro paragraph that says what this is.

        ## Install

        Download the binary.
        Run it once.

        - first item
          continued
        - second item

        ```sh
        parley serve

        # a comment, not a heading
        ```

        ### Ports ###

        | name | port |
        |------|------|
        | http | 8080 |
        | grpc | 4317 |

        Setext two
        ----------
        Last words.
        """

    @Test func markdownStructureIsRead() {
        let document = MarkdownStructure.read(Self.manual)
        let kinds = document.blocks.map(\.kind)
        #expect(kinds == [.heading(level: 1), .paragraph, .heading(level: 2), .paragraph, .listItem, .listItem, .code,
                          .heading(level: 3), .tableHeader, .tableRow, .tableRow, .heading(level: 2), .paragraph], "\(kinds)")
        let texts = document.blocks.map { String(document.text[$0.range]) }
        #expect(texts[3] == "Download the binary.\nRun it once.")
        #expect(texts[4] == "- first item\n  continued")
        #expect(texts[6] == "```sh\nparley serve\n\n# a comment, not a heading\n```", "a code block is kept whole")
        #expect(document.blocks.compactMap(\.title) == ["Parley Manual", "Install", "Ports", "Setext two"])
        #expect(document.pageCount == nil && document.blocks.allSatisfy { $0.page == 1 })
    }

    @Test func passagesFollowHeadingsAndKeepTheirPlace() {
        let document = MarkdownStructure.read(Self.manual)
        let chunks = Chunker().chunks(of: document)
        #expect(chunks.map(\.headingPath) == [["Parley Manual"], ["Parley Manual", "Install"],
                                              ["Parley Manual", "Install", "Ports"], ["Parley Manual", "Setext two"]])
        #expect(chunks[1].text.hasPrefix("## Install") && chunks[1].text.hasSuffix("```"))
        #expect(chunks[2].text.hasPrefix("### Ports") && chunks[2].text.hasSuffix("| grpc | 4317 |"))
        for chunk in chunks {
            #expect(Self.utf16Slice(Self.manual, chunk.start, chunk.end) == chunk.text)
            #expect(chunk.page == nil)
        }
    }

    @Test func longSectionsAreCutWithinTheLimitAndOverlap() {
        // Forty numbered paragraphs under one heading, with accents and emoji so offsets count UTF-16 as JavaScript.
        let paragraphs = (1...40).map { "Paragraph \($0) talks about café ☕️ and the number \($0 * 7) in a few more words." }
        let text = "# Long\n\n" + paragraphs.joined(separator: "\n\n")
        let chunks = Chunker(maxTokens: 80, overlapTokens: 30).chunks(of: MarkdownStructure.read(text))
        #expect(chunks.count > 5)
        for (chunk, next) in zip(chunks, chunks.dropFirst()) {
            #expect(chunk.tokens <= 80 && chunk.headingPath == ["Long"])
            #expect(next.start < chunk.end, "consecutive passages share text")
            #expect(next.start > chunk.start)
        }
        for chunk in chunks { #expect(Self.utf16Slice(text, chunk.start, chunk.end) == chunk.text) }
        for paragraph in paragraphs {
            #expect(chunks.contains { $0.text.contains(paragraph) }, "every paragraph is whole in some passage")
        }
    }

    @Test func aParagraphLongerThanAPassageIsCutAtSentenceEnds() {
        let sentences = (1...60).map { "Sentence number \($0) is here." }
        let text = sentences.joined(separator: " ")
        let chunks = Chunker(maxTokens: 50, overlapTokens: 12).chunks(of: MarkdownStructure.read(text))
        #expect(chunks.count > 3)
        for chunk in chunks {
            #expect(chunk.tokens <= 50)
            #expect(chunk.text.hasSuffix(".") || chunk.text.hasSuffix(". "), "ends at a sentence: \(chunk.text)")
            #expect(Self.utf16Slice(text, chunk.start, chunk.end) == chunk.text)
        }
        for (chunk, next) in zip(chunks, chunks.dropFirst()) { #expect(next.start < chunk.end && next.start > chunk.start) }
        for sentence in sentences { #expect(chunks.contains { $0.text.contains(sentence) }, "\(sentence)") }
        // One enormous word is still cut, on character boundaries.
        let word = String(repeating: "é", count: 2_000)
        let cut = Chunker(maxTokens: 50, overlapTokens: 10).chunks(of: MarkdownStructure.read(word))
        #expect(cut.count > 1 && cut.allSatisfy { $0.tokens <= 50 && $0.text.allSatisfy { $0 == "é" } })
        #expect(cut.last.map { Self.utf16Slice(word, $0.start, $0.end) == $0.text } == true)
    }

    @Test func pagesAreNeverMixedAndTableRowsCarryTheirHeader() {
        let rows = (1...30).map { "| item \($0) | \($0 * 3) euros |" }
        let text = "Page one text.\n\u{0C}# Prices\n\n| item | price |\n|---|---|\n" + rows.joined(separator: "\n")
            + "\n\u{0C}Page three text."
        let document = MarkdownStructure.read(text)
        #expect(document.pageCount == 3)
        let chunks = Chunker(maxTokens: 60, overlapTokens: 0).chunks(of: document)
        #expect(chunks.first?.page == 1 && chunks.first?.text == "Page one text.")
        #expect(chunks.last?.page == 3 && chunks.last?.text == "Page three text.")
        let table = chunks.filter { $0.page == 2 }
        #expect(table.count > 2 && table.allSatisfy { $0.headingPath == ["Prices"] })
        #expect(table.dropFirst().allSatisfy { $0.tableHeader == "| item | price |" }, "later row groups carry the header")
        for row in rows { #expect(table.filter { $0.text.contains(row) }.count == 1, "\(row)") }
        #expect(Chunker().chunks(of: MarkdownStructure.read("")).isEmpty)
        #expect(Chunker().chunks(of: MarkdownStructure.read("# Only a heading")).isEmpty)
    }

    static func utf16Slice(_ text: String, _ start: Int, _ end: Int) -> String {
        let utf16 = Array(text.utf16)
        return String(decoding: utf16[start..<end], as: UTF16.self)
    }
}
