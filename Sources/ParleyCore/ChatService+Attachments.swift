import Foundation

/// Attachments in chat turns: checked when a message is posted, read into the context when it is built.
extension ChatService {
    /// However little the budget leaves, a file attached to the question gives the model this much of its text.
    static let leastFileTokens = 256

    /// The references of the owner's attachments named by a message, in its order; an unknown id, or another user's,
    /// is `notFound`.
    func attachmentReferences(_ ids: [UUID], owner: UserID) async throws -> [AttachmentReference] {
        guard !ids.isEmpty else { return [] }
        guard let attachments else { throw ParleyError.unavailable("attachments are not kept by this server") }
        guard ids.count <= limits.maxAttachmentsPerMessage else {
            throw ParleyError.invalid("a message may carry at most \(limits.maxAttachmentsPerMessage) attachments")
        }
        guard Set(ids).count == ids.count else { throw ParleyError.invalid("an attachment is named twice") }
        var references: [AttachmentReference] = []
        for id in ids { references.append(try await attachments.attachmentReference(id: id, owner: owner)) }
        return references
    }

    /// Whether a resolved model takes images, by its name or its upstream's name for it.
    func takesImages(_ model: ResolvedModel) -> Bool {
        visionModels.matches(model.id) || visionModels.matches(model.upstreamModel)
    }

    /// The message as the model gets it: each file's text after the message's own (cut to `fileTokenBudget`,
    /// shared between its files), each image as an image part — or, for a model that takes none, a
    /// note saying it was left out. An attachment deleted since is a note too.
    func readAttachments(of message: ChatMessage, owner: UserID, acceptsImages: Bool,
                         fileTokenBudget: Int) async throws -> ChatMessage {
        guard !message.attachments.isEmpty else { return message }
        var result = message
        result.attachments = []
        var texts: [String] = []
        let fileCount = message.attachments.count { $0.kind == .file }
        let perFileBytes = fileTokenBudget * 4 / max(fileCount, 1)
        for reference in message.attachments {
            switch reference.kind {
            case .image:
                guard acceptsImages else {
                    texts.append("[Image \(reference.name) left out: this model does not take images]")
                    continue
                }
                guard let read = try await readBytes(reference.id, owner: owner) else {
                    texts.append("[Image \(reference.name) was deleted]")
                    continue
                }
                result.images.append(ImagePart(mediaType: read.attachment.mediaType, data: read.bytes))
            case .file:
                guard let text = try await readText(reference.id, owner: owner) else {
                    texts.append("[File \(reference.name) was deleted]")
                    continue
                }
                texts.append("<file name=\"\(reference.name)\">\n\(Self.cut(text, toBytes: perFileBytes))\n</file>")
            }
        }
        result.content = ([message.content] + texts).filter { !$0.isEmpty }.joined(separator: "\n\n")
        return result
    }

    /// The message with its files counted at no more than `total` tokens between them (as ``readAttachments(of:owner:acceptsImages:fileTokenBudget:)``
    /// will cut them).
    static func fileCostCapped(_ message: ChatMessage, total: Int) -> ChatMessage {
        let files = message.attachments.count { $0.kind == .file }
        guard files > 0 else { return message }
        var capped = message
        for index in capped.attachments.indices where capped.attachments[index].kind == .file {
            capped.attachments[index].tokens = min(capped.attachments[index].tokens, total / files)
        }
        return capped
    }

    /// `text` cut at a character boundary to at most `bytes` of UTF-8, with a note when it was cut.
    static func cut(_ text: String, toBytes bytes: Int) -> String {
        guard text.utf8.count > bytes else { return text }
        var end = text.utf8.index(text.utf8.startIndex, offsetBy: max(bytes, 0))
        while end > text.startIndex, end.samePosition(in: text.unicodeScalars) == nil { end = text.utf8.index(before: end) }
        return String(text[..<end]) + "\n[… the rest of the file does not fit in the context]"
    }

    private func readBytes(_ id: UUID, owner: UserID) async throws -> (attachment: Attachment, bytes: Data)? {
        guard let attachments else { return nil }
        do { return try await attachments.attachmentBytes(id: id, owner: owner) } catch ParleyError.notFound { return nil }
    }

    private func readText(_ id: UUID, owner: UserID) async throws -> String? {
        guard let attachments else { return nil }
        do { return try await attachments.attachment(id: id, owner: owner).text ?? "" } catch ParleyError.notFound { return nil }
    }
}
