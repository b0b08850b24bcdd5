import Foundation

/// Reads the text layer of a PDF with poppler's `pdftotext`, in a process of its own: a PDF that makes the reader
/// crash or hang fails its document (killed after ``timeout``), never the server. Pages come back separated by
/// form feeds, which Markdown reading turns into page numbers; `-layout` keeps a table's row on one line.
enum PDFText {
    static let timeout: Duration = .seconds(120)
    static let maxOutputBytes = 64 << 20

    /// `pdftotext` on the `PATH` (Debian: `poppler-utils`), or nil.
    static var executable: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/pdftotext" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func read(_ data: Data) throws -> DocumentText {
        guard let tool = executable else {
            throw ExtractionError("PDF documents need poppler's pdftotext on the server (Debian and Ubuntu: poppler-utils)")
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("parley-pdf-\(UUID().uuidString).pdf")
        try data.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["-layout", "-enc", "UTF-8", "-eol", "unix", "-q", file.path, "-"]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw ExtractionError("the PDF reader could not be started: \(error.localizedDescription)")
        }
        // Kill a reader that takes too long; the output is read until it closes, within the size limit.
        let deadline = DispatchTime.now() + .seconds(Int(timeout.components.seconds))
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: deadline, execute: watchdog)
        defer { watchdog.cancel() }
        var text = Data()
        let reader = output.fileHandleForReading
        while let chunk = try reader.read(upToCount: 1 << 16), !chunk.isEmpty {
            text.append(chunk)
            if text.count > maxOutputBytes {
                process.terminate()
                throw ExtractionError("the PDF's text is larger than \(maxOutputBytes >> 20) MB; it is refused")
            }
        }
        process.waitUntilExit()
        let stderr = String(decoding: (try? errors.fileHandleForReading.readToEnd()) ?? Data(), as: UTF8.self)
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            if process.terminationReason == .uncaughtSignal {
                throw ExtractionError("the PDF reader stopped on this file (timed out or crashed)")
            }
            let reason = stderr.split(separator: "\n").first.map(String.init) ?? "exit status \(process.terminationStatus)"
            throw ExtractionError(reason.localizedCaseInsensitiveContains("password") || reason.localizedCaseInsensitiveContains("encrypt")
                ? "the PDF is encrypted; upload a copy without a password"
                : "the PDF could not be read: \(reason.prefix(200))")
        }
        // pdftotext ends the last page with a form feed too; an empty last page is not a page.
        var body = String(decoding: text, as: UTF8.self)
        while body.hasSuffix("\u{0C}") || body.hasSuffix("\n") { body.removeLast() }
        // A PDF always has pages, one at the least.
        let read = MarkdownStructure.read(body)
        return DocumentText(text: read.text, blocks: read.blocks, pageCount: read.pageCount ?? 1)
    }
}
