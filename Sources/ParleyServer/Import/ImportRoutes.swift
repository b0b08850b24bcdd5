import Foundation
import Hummingbird
import NIOCore
import ParleyCore
import ParleyImport

/// `POST /api/v1/imports`: another chat app's export (ChatGPT's `conversations.json`, Open WebUI's chat export,
/// LibreChat's conversation export, Parley's own JSON export) as the request body; the conversations in it become the caller's, with their
/// branches. The body is read as it arrives and each conversation stored when it is complete, so a file of any
/// size up to `import_max_bytes` is imported in the memory of its largest conversation.
struct ImportRoutes: Sendable {
    let store: any ConversationStore
    let maxImportBytes: Int
    /// Largest single conversation in an export.
    static let maxConversationBytes = 64 << 20

    func register(on group: some RouterMethods<ParleyRequestContext>) {
        group.post("imports", use: importFile)
    }

    @Sendable func importFile(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        if request.headers.value(of: .contentType)?.lowercased().hasPrefix("multipart/") == true {
            throw ClientError(.unsupportedMediaType, type: "invalid_request_error",
                              message: "send the export file itself as the body (curl --data-binary @conversations.json), not a multipart form")
        }
        let importer = ConversationImporter(store: store, owner: context.owner, maxConversationBytes: Self.maxConversationBytes)
        let report = try await importer.run(LimitedBody(body: request.body, limit: maxImportBytes))
        if report.conversations == 0 {
            let why = report.failure ?? report.skipped.first.map { "conversation \($0.position + 1): \($0.reason)" }
                ?? "the file holds no conversation"
            throw ClientError.invalid("nothing was imported: \(why)")
        }
        return try Response.json(API.ImportReport(report), status: .created)
    }
}

/// A request body that fails with a 413 once it passes `limit` bytes, whatever its `Content-Length` said.
struct LimitedBody: AsyncSequence, Sendable {
    typealias Element = ByteBufferView
    let body: RequestBody
    let limit: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let limit: Int
        var seen = 0

        mutating func next() async throws -> ByteBufferView? {
            guard let buffer = try await base.next() else { return nil }
            seen += buffer.readableBytes
            if seen > limit { throw ClientError.bodyTooLarge(limit: limit) }
            return buffer.readableBytesView
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: body.makeAsyncIterator(), limit: limit) }
}
