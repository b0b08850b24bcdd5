import FuzzSupport
import Foundation
import ParleyRetrieval

/// libFuzzer entry: every document reader an upload reaches (HTML, Word's ZIP and XML, Markdown, CSV, JSON, the
/// text decoders), then the chunker over what they read. PDFs are read by a separate process and are left out.
/// Crashes, traps and hangs are findings; so is a passage whose offsets do not point at its text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDocuments(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = Data(fuzzInput(start, count))
    guard DocumentExtractor.kind(of: data) != .pdf,
          let (_, document) = try? DocumentExtractor.extract(data, name: count % 2 == 0 ? "upload.csv" : nil) else { return 0 }
    let text = Array(document.text.utf16)
    for chunk in Chunker(maxTokens: 40, overlapTokens: 8).chunks(of: document) {
        guard chunk.start >= 0, chunk.start <= chunk.end, chunk.end <= text.count,
              String(decoding: text[chunk.start..<chunk.end], as: UTF16.self) == chunk.text else {
            fatalError("a passage's offsets \(chunk.start)..<\(chunk.end) do not point at its text")
        }
    }
    return 0
}

@main enum FuzzDocumentsMain {
    static func main() { runFuzzer(fuzzDocuments) }
}
