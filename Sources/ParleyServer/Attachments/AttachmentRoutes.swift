import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ParleyCore
import ParleyRetrieval
import ParleyStore

/// `/api/v1/attachments`: files and images a user attaches to messages — upload, describe, read back, delete.
/// Each is its owner's alone: another user's id answers 404. Uploading the same bytes twice gives the same one.
struct AttachmentRoutes {
    static let maxNameLength = 255

    let store: GuardedConversationStore
    /// Largest attachment, in bytes.
    let maxBytes: Int

    func register(on group: some RouterMethods<ParleyRequestContext>) {
        group.post("attachments", use: upload)
        group.get("attachments/:id", use: describe)
        group.get("attachments/:id/content", use: content)
        group.delete("attachments/:id", use: delete)
    }

    /// The file is the request body (`curl --data-binary @photo.png '…/attachments?name=photo.png'`). Its type is
    /// read from its first bytes as they arrive: a file that is neither an image nor a document is refused then
    /// (415), and one that passes `attachment_max_bytes` as soon as it does (413), without waiting for the rest.
    @Sendable func upload(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        guard let name = try Query(request).string("name", maxLength: Self.maxNameLength)
            ?? KnowledgeRoutes.filename(request.headers.value(of: .contentDisposition)) else {
            throw ClientError.invalid("name the file: '?name=photo.png' or a Content-Disposition filename", param: "name")
        }
        try rejectNUL(name, field: "name")
        guard name.count <= Self.maxNameLength else {
            throw ClientError.invalid("'name' is longer than \(Self.maxNameLength) characters", param: "name")
        }
        if request.headers.value(of: .contentType)?.lowercased().hasPrefix("multipart/") == true {
            throw ClientError(.unsupportedMediaType, type: "invalid_request_error",
                              message: "send the file itself as the body (curl --data-binary @file), not a multipart form")
        }
        var collected = ByteBuffer()
        var verdict: AttachmentReader.Verdict?
        for try await chunk in request.body {
            guard collected.readableBytes + chunk.readableBytes <= maxBytes else { throw ClientError.bodyTooLarge(limit: maxBytes) }
            collected.writeImmutableBuffer(chunk)
            if verdict == nil, collected.readableBytes >= AttachmentReader.headBytes {
                verdict = try Self.accepted(AttachmentReader.judge(head: collected.readableBytesView))
            }
        }
        guard collected.readableBytes > 0 else { throw ClientError.invalid("the file is empty") }
        let judged = try verdict ?? Self.accepted(AttachmentReader.judge(head: collected.readableBytesView))
        let new: NewAttachment
        do {
            new = try await AttachmentReader.read(Data(collected.readableBytesView), name: name, verdict: judged)
        } catch let failure as ExtractionError {
            throw ClientError(.unprocessableContent, type: "invalid_request_error",
                              message: "the file's text could not be read: \(failure.description)")
        }
        let saved = try await store.saveAttachment(new, owner: context.owner)
        var response = Response.json(text: Self.json(saved.attachment), status: saved.duplicate ? .ok : .created)
        response.headers[.location] = "/api/v1/attachments/\(saved.attachment.id.lowercased)"
        return response
    }

    @Sendable func describe(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "attachment")
        return Response.json(text: Self.json(try await store.attachment(id: id, owner: context.owner)))
    }

    /// The bytes, to their owner only. Images go as what they are; documents as plain text or PDF, anything else
    /// as a download — never as HTML, and sandboxed, so an uploaded page cannot run in Parley's origin.
    @Sendable func content(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "attachment")
        let (attachment, bytes) = try await store.attachmentBytes(id: id, owner: context.owner)
        let servedType: String
        var disposition = "inline"
        switch attachment.mediaType {
        case let type where type.hasPrefix("image/") || type == "application/pdf": servedType = type
        case let type where type.hasPrefix("text/") || type == "application/json": servedType = "text/plain; charset=utf-8"
        default:
            servedType = "application/octet-stream"
            disposition = "attachment"
        }
        let encodedName = attachment.name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "file"
        var headers = HTTPFields()
        headers[.contentType] = servedType
        headers[.contentDisposition] = "\(disposition); filename*=UTF-8''\(encodedName)"
        headers[.contentSecurityPolicy] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
        headers[.cacheControl] = "private, max-age=31536000, immutable"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    @Sendable func delete(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        try await store.deleteAttachment(id: try context.uuid("id", kind: "attachment"), owner: context.owner)
        return Response(status: .noContent)
    }

    /// The verdict on a file's first bytes, or the 415 that refuses it.
    static func accepted(_ verdict: AttachmentReader.Verdict) throws -> AttachmentReader.Verdict {
        if case .refused(let reason) = verdict {
            throw ClientError(.unsupportedMediaType, type: "invalid_request_error", message: reason)
        }
        return verdict
    }

    static func json(_ attachment: Attachment) -> String {
        var object = API.attachmentObject(attachment.reference)
        object.field("sha256", attachment.sha256)
        object.field("tokens", attachment.reference.tokens)
        object.field("created_at", API.time(attachment.createdAt))
        return object.closed
    }
}
