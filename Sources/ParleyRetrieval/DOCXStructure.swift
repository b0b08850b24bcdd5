import CompressNIO
import Foundation
import NIOCore
import ZIPFoundation

/// Reads a Word document (`.docx`): the body of `word/document.xml` as the Markdown it amounts to — headings
/// (`Title`, `Heading 1`–`6` styles), paragraphs, list items, tables row by row, explicit page breaks as pages —
/// and then its structure as Markdown's.
///
/// A DOCX is a ZIP archive, so reading one is bounded: the document part may not declare or inflate to more than
/// ``maxXMLBytes``, and inflation stops as soon as it passes that (a decompression bomb is refused, not read); its
/// compressed bytes must lie within the file.
enum DOCXStructure {
    static let maxXMLBytes = 64 << 20

    static func read(_ data: Data) throws -> DocumentText {
        // ZIPFoundation lists the entries (from a file: its in-memory archives can hang on a damaged one); the
        // document part is inflated here, from its bytes in the upload, with a bound on the output. (ZIPFoundation's
        // own extraction reads on past a truncated stream forever — found by FuzzDocuments.)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("parley-docx-\(UUID().uuidString).zip")
        try data.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let archive: Archive
        do {
            archive = try Archive(url: file, accessMode: .read)
        } catch {
            throw ExtractionError("the DOCX file is not a readable ZIP archive")
        }
        guard let entry = archive["word/document.xml"] else {
            throw ExtractionError("the DOCX file has no word/document.xml: it is not a Word document")
        }
        let tooLarge = ExtractionError("the DOCX file's text would inflate to more than \(maxXMLBytes >> 20) MB; it is refused")
        let damaged = ExtractionError("the DOCX file is damaged: its text could not be inflated")
        guard entry.uncompressedSize <= UInt64(maxXMLBytes) else { throw tooLarge }
        guard let start = localDataOffset(of: "word/document.xml", in: data),
              UInt64(start) + entry.compressedSize <= UInt64(data.count) else { throw damaged }
        let stored = data[data.startIndex + start ..< data.startIndex + start + Int(entry.compressedSize)]
        guard entry.isCompressed else {
            return MarkdownStructure.read(markdown(String(decoding: stored, as: UTF8.self)))
        }
        // Inflated through a 64 KB window, counted as it comes: a bomb stops at the limit whatever it declares,
        // and the loop ends as soon as a step makes no progress (a stream that ends early, or data after its end).
        // (CompressNIO's own streaming loop spins on both — found by FuzzDocuments.)
        var compressed = ByteBuffer(bytes: stored)
        var xml = ByteBuffer()
        let decompressor = CompressionAlgorithm.deflate().decompressor
        var window = ByteBuffer()
        window.reserveCapacity(1 << 16)
        do {
            try decompressor.startStream()
            defer { try? decompressor.finishStream() }
            while true {
                let before = compressed.readableBytes
                window.clear()
                do {
                    try compressed.decompressStream(to: &window, with: decompressor)
                } catch let error as CompressNIOError where error == .bufferOverflow || error == .inputBufferOverflow {
                    // The window is full, or the input ran out: what came is in the window.
                }
                guard xml.readableBytes + window.readableBytes <= maxXMLBytes else { throw tooLarge }
                let produced = window.readableBytes
                xml.writeBuffer(&window)
                if produced == 0 && compressed.readableBytes == before { break }
            }
        } catch let error as ExtractionError {
            throw error
        } catch {
            throw damaged
        }
        return MarkdownStructure.read(markdown(String(buffer: xml)))
    }

    /// Where the data of the entry named `path` starts: after its local header (`PK\3\4`, 30 bytes, the name,
    /// the extra field).
    static func localDataOffset(of path: String, in data: Data) -> Int? {
        let name = Array(path.utf8)
        return data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Int? in
            var index = 0
            while index + 30 + name.count <= bytes.count {
                if bytes[index] == 0x50, bytes[index + 1] == 0x4B, bytes[index + 2] == 3, bytes[index + 3] == 4 {
                    let nameLength = Int(bytes[index + 26]) | Int(bytes[index + 27]) << 8
                    let extraLength = Int(bytes[index + 28]) | Int(bytes[index + 29]) << 8
                    if nameLength == name.count, name.indices.allSatisfy({ bytes[index + 30 + $0] == name[$0] }) {
                        return index + 30 + nameLength + extraLength
                    }
                }
                index += 1
            }
            return nil
        }
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
