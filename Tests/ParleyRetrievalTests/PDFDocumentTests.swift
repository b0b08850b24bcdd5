import Foundation
import ParleyRetrieval
import Testing

/// PDFs made here (two pages, a table laid out in columns) read through poppler's `pdftotext` with their pages;
/// a damaged PDF fails with a reason.
@Suite struct PDFDocumentTests {
    static var available: Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/pdftotext") }
    }
    static var required: Bool { ProcessInfo.processInfo.environment["PARLEY_REQUIRE_SERVICES"] == "1" }

    /// A PDF whose pages each show `lines`: (x, y, font size, text) in Helvetica.
    static func pdf(pages: [[(x: Int, y: Int, size: Int, text: String)]]) -> Data {
        var objects: [String] = []
        let font = 3 + pages.count * 2
        let kids = pages.indices.map { "\(3 + $0 * 2) 0 R" }.joined(separator: " ")
        objects.append("<< /Type /Catalog /Pages 2 0 R >>")
        objects.append("<< /Type /Pages /Kids [\(kids)] /Count \(pages.count) >>")
        for (index, lines) in pages.enumerated() {
            let content = lines.map { "BT /F1 \($0.size) Tf \($0.x) \($0.y) Td (\($0.text)) Tj ET" }.joined(separator: "\n")
            objects.append("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 \(font) 0 R >> >> "
                           + "/Contents \(4 + index * 2) 0 R >>")
            objects.append("<< /Length \(content.utf8.count) >>\nstream\n\(content)\nendstream")
        }
        objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        var out = "%PDF-1.4\n"
        var offsets: [Int] = []
        for (index, object) in objects.enumerated() {
            offsets.append(out.utf8.count)
            out += "\(index + 1) 0 obj\n\(object)\nendobj\n"
        }
        let xref = out.utf8.count
        out += "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
        for offset in offsets { out += String(format: "%010d 00000 n \n", offset) }
        out += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        return Data(out.utf8)
    }

    @Test(.enabled(if: available || required, "pdftotext not found; set PARLEY_REQUIRE_SERVICES=1 to make this a failure"))
    func aTwoPagePDFWithATableKeepsItsPagesAndRows() throws {
        let data = Self.pdf(pages: [
            [(72, 720, 18, "Router manual"), (72, 690, 12, "Hold the reset button for ten seconds."),
             (72, 672, 12, "The light blinks amber while the router restarts.")],
            [(72, 720, 14, "Ports"), (72, 690, 12, "Port"), (220, 690, 12, "Use"), (72, 672, 12, "22"), (220, 672, 12, "ssh"),
             (72, 654, 12, "80"), (220, 654, 12, "web admin")],
        ])
        let (kind, document) = try DocumentExtractor.extract(data, name: "manual")
        #expect(kind == .pdf)
        #expect(document.pageCount == 2, "\(document.text)")
        let chunks = Chunker(maxTokens: 30, overlapTokens: 0).chunks(of: document)
        let reset = try #require(chunks.first { $0.text.contains("reset button") })
        #expect(reset.page == 1)
        let table = try #require(chunks.first { $0.text.contains("ssh") })
        #expect(table.page == 2)
        // -layout keeps a row's cells on one line, in their columns.
        #expect(document.text.split(separator: "\n").contains { $0.contains("22") && $0.contains("ssh") }, "\(document.text)")
        #expect(document.text.split(separator: "\n").contains { $0.contains("80") && $0.contains("web admin") })
    }

    @Test(.enabled(if: available || required, "pdftotext not found; set PARLEY_REQUIRE_SERVICES=1 to make this a failure"))
    func aDamagedPDFFailsWithAReasonAndOnePageIsPageOne() throws {
        #expect(throws: ExtractionError.self) { try DocumentExtractor.extract(Data("%PDF-1.4\nthis is not a PDF at all\n".utf8)) }
        var truncated = Self.pdf(pages: [[(72, 720, 12, "Half a file")]])
        let single = try DocumentExtractor.extract(Self.pdf(pages: [[(72, 720, 12, "One page only")]])).document
        #expect(single.pageCount == 1 && Chunker().chunks(of: single).first?.page == 1)
        truncated = truncated.prefix(truncated.count / 3)
        do {
            let (_, document) = try DocumentExtractor.extract(truncated)
            // poppler may recover what is there; whatever it returns is text, never a crash.
            #expect(!document.text.isEmpty)
        } catch let error as ExtractionError {
            #expect(!error.description.isEmpty)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
