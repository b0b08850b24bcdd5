import Foundation
import ParleyRetrieval
import Testing
import ZIPFoundation

/// HTML pages and Word documents, made here as a browser or Word would write them, read into passages with their
/// headings, tables and pages; damaged files and decompression bombs refused with a reason.
@Suite struct MarkupDocumentTests {
    static let page = """
        <!DOCTYPE html>
        <html><head><title>Router help</title><style>p { color: red }</style>
        <script>var secret = "<p>not text</p>";</script></head>
        <body><nav><a href="/">Home</a> · <a href="/help">Help</a></nav>
        <h1>Router&nbsp;guide</h1>
        <p>Hold the <b>recessed</b> button
           for ten seconds &amp; wait.</p>
        <h2>Ports</h2>
        <table><tr><th>Port</th><th>Use</th></tr><tr><td>80</td><td>web | admin</td></tr><tr><td>22</td><td>ssh</td></tr></table>
        <ul><li>First step</li><li>Second&#32;step &#x2014; done</li></ul>
        <pre>ping 192.168.1.1
        exit</pre>
        <!-- a comment <p>hidden</p> -->
        </body></html>
        """

    @Test func htmlIsReadAsItsStructureWithoutScriptsOrNavigation() throws {
        let (kind, document) = try DocumentExtractor.extract(Data(Self.page.utf8), name: "help.html")
        #expect(kind == .html)
        let text = document.text
        #expect(!text.contains("secret") && !text.contains("color") && !text.contains("Home") && !text.contains("hidden"))
        #expect(text.contains("# Router guide") && text.contains("Hold the recessed button for ten seconds & wait."), "\(text)")
        #expect(text.contains("| Port | Use |\n| --- | --- |\n| 80 | web / admin |\n| 22 | ssh |"), "\(text)")
        #expect(text.contains("- Second step — done") && text.contains("```\nping 192.168.1.1\nexit\n```"))
        let kinds = document.blocks.map(\.kind)
        #expect(kinds.contains(.heading(level: 1)) && kinds.contains(.heading(level: 2)) && kinds.contains(.tableHeader))
        let chunks = Chunker(maxTokens: 12, overlapTokens: 0).chunks(of: document)
        let ports = try #require(chunks.first { $0.text.contains("ssh") })
        #expect(ports.headingPath.last == "Ports")
    }

    @Test func aPageWithoutHeadingsIsHeadedByItsTitle() throws {
        let (_, document) = try DocumentExtractor.extract(Data("<html><head><title>Notes</title></head><body><p>Plain.</p></body></html>".utf8))
        #expect(document.text == "# Notes\n\nPlain.")
    }

    /// A minimal Word document: the parts Word needs to open it, and `body` as the document's body.
    static func docx(body: String, compress: Bool = true) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        let parts = [
            ("[Content_Types].xml", #"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#),
            ("word/document.xml", #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>\#(body)</w:body></w:document>"#),
        ]
        for (path, text) in parts {
            let bytes = Data(text.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(bytes.count),
                                 compressionMethod: compress ? .deflate : .none) { position, size in
                bytes.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        return try #require(archive.data)
    }

    static func paragraph(_ text: String, style: String? = nil, list: Bool = false, pageBreakBefore: Bool = false) -> String {
        var properties = style.map { #"<w:pStyle w:val="\#($0)"/>"# } ?? ""
        if list { properties += #"<w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>"# }
        let pageBreak = pageBreakBefore ? #"<w:r><w:br w:type="page"/></w:r>"# : ""
        return #"<w:p><w:pPr>\#(properties)</w:pPr>\#(pageBreak)<w:r><w:t xml:space="preserve">\#(text)</w:t></w:r></w:p>"#
    }

    @Test func aWordDocumentKeepsItsHeadingsListsTablesAndPages() throws {
        let body = [
            Self.paragraph("Installation manual", style: "Title"),
            Self.paragraph("Before you start", style: "Heading1"),
            Self.paragraph("Unpack the router &amp; check the cables."),
            Self.paragraph("Power adapter", list: true),
            Self.paragraph("Network cable", list: true),
            Self.paragraph("Ports", style: "Heading1", pageBreakBefore: true),
            #"<w:tbl><w:tr><w:tc>\#(Self.paragraph("Port"))</w:tc><w:tc>\#(Self.paragraph("Use"))</w:tc></w:tr>"#
                + #"<w:tr><w:tc>\#(Self.paragraph("22"))</w:tc><w:tc>\#(Self.paragraph("ssh"))</w:tc></w:tr></w:tbl>"#,
            Self.paragraph("Leave port 22 closed unless you need it."),
        ].joined()
        let (kind, document) = try DocumentExtractor.extract(try Self.docx(body: body), name: "manual.bin")
        #expect(kind == .docx)
        #expect(document.pageCount == 2)
        let text = document.text
        #expect(text.contains("# Installation manual") && text.contains("# Before you start"), "\(text)")
        #expect(text.contains("Unpack the router & check the cables.") && text.contains("- Power adapter\n\n- Network cable"))
        #expect(text.contains("| Port | Use |\n| --- | --- |\n| 22 | ssh |"), "\(text)")
        let chunks = Chunker(maxTokens: 12, overlapTokens: 0).chunks(of: document)
        let ssh = try #require(chunks.first { $0.text.contains("22 | ssh") })
        #expect(ssh.page == 2 && ssh.headingPath.last == "Ports")
        let unpack = try #require(chunks.first { $0.text.contains("Unpack") })
        #expect(unpack.page == 1 && unpack.headingPath.last == "Before you start")
        let utf16 = Array(text.utf16)
        #expect(String(decoding: utf16[ssh.start..<ssh.end], as: UTF16.self) == ssh.text, "offsets point into the text")
    }

    @Test func damagedAndOversizedWordFilesAreRefusedWithAReason() throws {
        let damaged = Data([0x50, 0x4B, 0x03, 0x04]) + Data("word/document.xml and then nothing a zip needs".utf8)
        #expect(throws: ExtractionError("the DOCX file is not a readable ZIP archive")) { try DocumentExtractor.extract(damaged) }

        // 80 MB of markup deflates to well under a megabyte: refused from its declared size.
        let filler = String(repeating: "<w:p><w:r><w:t>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</w:t></w:r></w:p>", count: 1_000_000)
        let bomb = try Self.docx(body: filler)
        #expect(bomb.count < 2 << 20)
        #expect(throws: ExtractionError.self) { try DocumentExtractor.extract(bomb) }

        // The same, its sizes rewritten to claim 1 KB: inflation stops once it passes the limit.
        var lying = [UInt8](bomb)
        Self.patchSizes(&lying, path: "word/document.xml", to: 1024)
        #expect(throws: ExtractionError("the DOCX file's text would inflate to more than 64 MB; it is refused")) {
            try DocumentExtractor.extract(Data(lying))
        }
    }

    /// Rewrites the uncompressed size of `path` in its local header and its central-directory record.
    static func patchSizes(_ bytes: inout [UInt8], path: String, to size: UInt32) {
        let name = Array(path.utf8)
        func write(_ value: UInt32, at offset: Int) {
            for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))) }
        }
        var index = 0
        while index + 46 < bytes.count {
            let signature = UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24
            if signature == 0x0403_4B50, Array(bytes[(index + 30)..<min(bytes.count, index + 30 + name.count)]) == name {
                write(size, at: index + 22)
            } else if signature == 0x0201_4B50, Array(bytes[(index + 46)..<min(bytes.count, index + 46 + name.count)]) == name {
                write(size, at: index + 24)
            }
            index += 1
        }
    }
}
