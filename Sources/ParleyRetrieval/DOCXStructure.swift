import Foundation
import ZIPFoundation

/// Reads a Word document (`.docx`): the body of `word/document.xml` as the Markdown it amounts to — headings
/// (`Title`, `Heading 1`–`6` styles), paragraphs, list items, tables row by row, explicit page breaks as pages —
/// and then its structure as Markdown's.
///
/// A DOCX is a ZIP archive, so reading one is bounded: the document part may not declare or inflate to more than
/// ``maxXMLBytes``, and inflation stops as soon as it passes that (a decompression bomb is refused, not read).
enum DOCXStructure {
    static let maxXMLBytes = 64 << 20

    static func read(_ data: Data) throws -> DocumentText {
        let archive: Archive
        do {
            archive = try Archive(data: data, accessMode: .read)
        } catch {
            throw ExtractionError("the DOCX file is not a readable ZIP archive")
        }
        guard let entry = archive["word/document.xml"] else {
            throw ExtractionError("the DOCX file has no word/document.xml: it is not a Word document")
        }
        let tooLarge = ExtractionError("the DOCX file's text would inflate to more than \(maxXMLBytes >> 20) MB; it is refused")
        guard entry.uncompressedSize <= UInt64(maxXMLBytes) else { throw tooLarge }
        var xml = Data()
        do {
            _ = try archive.extract(entry) { chunk in
                xml.append(chunk)
                if xml.count > maxXMLBytes { throw tooLarge }
            }
        } catch let error as ExtractionError {
            throw error
        } catch {
            throw ExtractionError("the DOCX file is damaged: its text could not be inflated")
        }
        return MarkdownStructure.read(markdown(String(decoding: xml, as: UTF8.self)))
    }

    /// The document's body as Markdown.
    static func markdown(_ xml: String) -> String {
        var scanner = MarkupScanner(xml, lowercaseNames: false)
        var writer = MarkdownWriter()
        var paragraph = Paragraph()
        var inText = false
        var tables: [[[String]]] = []  // rows of cells, per open (nested) table
        var cell: [String]? = nil
        while let token = scanner.next() {
            switch token {
            case .start(let name, let attributes, let selfClosing):
                switch name {
                case "w:p": paragraph = Paragraph()
                case "w:pStyle": paragraph.level = headingLevel(attributes["w:val"] ?? "")
                case "w:numPr": paragraph.listItem = true
                case "w:t": inText = !selfClosing
                case "w:tab": paragraph.text += "\t"
                case "w:br", "w:cr":
                    if attributes["w:type"] == "page" { paragraph.text += "\u{0C}" } else { paragraph.text += "\n" }
                case "w:tbl": tables.append([])
                case "w:tr": if !tables.isEmpty { tables[tables.count - 1].append([]) }
                case "w:tc": cell = []
                default: break
                }
            case .end(let name):
                switch name {
                case "w:t": inText = false
                case "w:p":
                    if cell != nil {
                        cell!.append(paragraph.text)
                    } else {
                        paragraph.write(to: &writer)
                    }
                    paragraph = Paragraph()
                case "w:tc":
                    if let text = cell, !tables.isEmpty, !tables[tables.count - 1].isEmpty {
                        let joined = MarkdownWriter.collapsed(text.joined(separator: " ")).replacingOccurrences(of: "|", with: "/")
                        tables[tables.count - 1][tables[tables.count - 1].count - 1].append(joined)
                    }
                    cell = nil
                case "w:tbl":
                    guard let rows = tables.popLast() else { break }
                    for (index, row) in rows.enumerated() where !row.isEmpty { writer.tableRow(row, header: index == 0) }
                    writer.endTable()
                default: break
                }
            case .text(let text):
                if inText { paragraph.text += text }
            }
        }
        return writer.output
    }

    /// `Title` is level 1, `Heading1`…`Heading6` (or `heading 1` in older files) their level; others none.
    static func headingLevel(_ style: String) -> Int? {
        let lowered = style.lowercased().replacingOccurrences(of: " ", with: "")
        if lowered == "title" { return 1 }
        guard lowered.hasPrefix("heading"), let level = Int(lowered.dropFirst("heading".count)), (1...6).contains(level) else {
            return nil
        }
        return level
    }

    struct Paragraph {
        var text = ""
        var level: Int?
        var listItem = false

        func write(to writer: inout MarkdownWriter) {
            // A page break anywhere in the paragraph starts the page before its text (Markdown reads form feeds).
            let breaks = text.filter { $0 == "\u{0C}" }.count
            let body = text.replacingOccurrences(of: "\u{0C}", with: "")
            if breaks > 0 {
                writer.endBlock()
                writer.pageBreaks(breaks)
            }
            guard !body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return }
            let marker = level.map { String(repeating: "#", count: $0) + " " } ?? (listItem ? "- " : "")
            writer.startBlock(marker)
            for (index, line) in body.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                if index > 0 { writer.lineBreak() }
                writer.text(String(line))
            }
            writer.endBlock()
        }
    }
}
