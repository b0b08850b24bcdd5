import Foundation
import ParleyRetrieval
import Testing

@Suite struct ExtractionTests {
    @Test func theKindComesFromTheContentNotTheName() {
        #expect(DocumentExtractor.kind(of: Data("%PDF-1.7\n...".utf8), name: "notes.txt") == .pdf)
        #expect(DocumentExtractor.kind(of: Data([0x50, 0x4B, 0x03, 0x04]) + Data("....word/document.xml".utf8), name: "a.zip") == .docx)
        #expect(DocumentExtractor.kind(of: Data([0x50, 0x4B, 0x03, 0x04, 1, 2]), name: "report.pdf") == .binary)
        #expect(DocumentExtractor.kind(of: Data("  <!DOCTYPE html><html><body>hi".utf8), name: "page.md") == .html)
        #expect(DocumentExtractor.kind(of: Data(#"[{"q": "a"}, {"q": "b"}]"#.utf8), name: "data.txt") == .json)
        #expect(DocumentExtractor.kind(of: Data("[not json".utf8)) == .text)
        #expect(DocumentExtractor.kind(of: Data("name,port\nhttp,80\nssh,22\n".utf8), name: "ports.csv") == .csv)
        #expect(DocumentExtractor.kind(of: Data("name\tport\nhttp\t80\n".utf8), name: "ports.tsv") == .tsv)
        #expect(DocumentExtractor.kind(of: Data("Hello, world.\nGoodbye, world.\n".utf8), name: "letter.txt") == .text,
                "commas in prose do not make a CSV")
        #expect(DocumentExtractor.kind(of: Data("# Title\n\ntext".utf8), name: "x") == .markdown)
        #expect(DocumentExtractor.kind(of: Data([0x7F, 0x45, 0x4C, 0x46, 0, 0, 1]), name: "readme.md") == .binary)
    }

    @Test func textInAnyCommonEncodingIsDecoded() throws {
        let utf8BOM = Data([0xEF, 0xBB, 0xBF]) + Data("Café menu\n\nCrème brûlée.".utf8)
        #expect(try DocumentExtractor.extract(utf8BOM).document.text == "Café menu\n\nCrème brûlée.")
        let utf16 = try #require("Grüße aus Köln.".data(using: .utf16))  // with a byte-order mark
        #expect(try DocumentExtractor.extract(utf16).document.text == "Grüße aus Köln.")
        let latin1 = Data([0x43, 0x61, 0x66, 0xE9, 0x2E])  // "Café." in ISO 8859-1, not valid UTF-8
        #expect(try DocumentExtractor.extract(latin1).document.text == "Café.")
    }

    @Test func csvRecordsAreTableRowsUnderTheirHeader() throws {
        let csv = "product,price,notes\nkettle,25,\"boils, fast\"\n\"lamp\",12,\"two\nlines\"\n\nmug,4,\"say \"\"hi\"\"\"\n"
        let (kind, document) = try DocumentExtractor.extract(Data(csv.utf8), name: "stock.csv")
        #expect(kind == .csv)
        #expect(document.blocks.map(\.kind) == [.tableHeader, .tableRow, .tableRow, .tableRow])
        #expect(document.blocks.map { String(document.text[$0.range]) }
                == ["product,price,notes", "kettle,25,\"boils, fast\"", "\"lamp\",12,\"two\nlines\"", "mug,4,\"say \"\"hi\"\"\""])
        let rows = (1...200).map { "item \($0),\($0),fine" }.joined(separator: "\n")
        let chunks = Chunker(maxTokens: 40, overlapTokens: 0).chunks(of: DelimitedStructure.read("name,count,state\n" + rows))
        #expect(chunks.count > 10 && chunks.dropFirst().allSatisfy { $0.tableHeader == "name,count,state" })
    }

    @Test func jsonRecordsAreBlocks() throws {
        let json = """
            [
              {"question": "How do I reset my password?", "answer": "Use the link, then sign in."},
              {"question": "Where are invoices?", "answer": "Under Billing, \\"Invoices\\" [all of them]."},
              42
            ]
            """
        let (kind, document) = try DocumentExtractor.extract(Data(json.utf8))
        #expect(kind == .json)
        let texts = document.blocks.map { String(document.text[$0.range]) }
        #expect(texts.count == 3 && texts[0].hasPrefix("{\"question\": \"How do I") && texts[0].hasSuffix("sign in.\"}"))
        #expect(texts[1].hasSuffix(#"[all of them]."}"#) && texts[2] == "42")
        let object = try DocumentExtractor.extract(Data(#"{"a": {"b": [1, 2]}, "c": "d"}"#.utf8)).document
        #expect(object.blocks.map { String(object.text[$0.range]) } == [#""a": {"b": [1, 2]}"#, #""c": "d""#])
    }

    @Test func whatCannotBeReadIsAClearError() {
        #expect(throws: ExtractionError("the file is not a document Parley can read (binary content)")) {
            try DocumentExtractor.extract(Data([0, 1, 2, 3, 0xFF]))
        }
        #expect(throws: ExtractionError("the document holds no text")) { try DocumentExtractor.extract(Data("  \n\n \t".utf8)) }
        #expect(throws: ExtractionError("the document holds no text")) { try DocumentExtractor.extract(Data()) }
        #expect(throws: ExtractionError.self) { try DocumentExtractor.extract(Data("%PDF-1.4 broken".utf8)) }
    }
}
