import Foundation
import ParleyCore
import Testing

extension ConversationStoreContract {
    /// Attachments are their owner's, stored once per owner by content; a turn records them on its question, and
    /// the history read for the next turn carries them; deleting one leaves the messages that named it.
    static func attachmentsBelongToTheirOwnerAndRideOnMessages(_ conversations: any ConversationStore) async throws {
        let store = try #require(conversations as? any AttachmentStore)
        let bytes = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let image = NewAttachment(name: "photo.png", mediaType: "image/png", kind: .image, bytes: bytes, sha256: "aa11", text: nil)
        let first = try await store.saveAttachment(image, owner: owner)
        #expect(!first.duplicate && first.attachment.byteCount == bytes.count && first.attachment.ownerID == owner)
        var renamed = image
        renamed.name = "again.png"
        let again = try await store.saveAttachment(renamed, owner: owner)
        #expect(again.duplicate && again.attachment.id == first.attachment.id && again.attachment.name == "photo.png",
                "the same content is stored once")
        let theirs = try await store.saveAttachment(image, owner: stranger)
        #expect(!theirs.duplicate && theirs.attachment.id != first.attachment.id, "another owner's copy is their own")

        let read = try await store.attachmentBytes(id: first.attachment.id, owner: owner)
        #expect(read.bytes == bytes && read.attachment == first.attachment)
        await #expect(throws: ParleyError.self) { try await store.attachment(id: first.attachment.id, owner: stranger) }
        await #expect(throws: ParleyError.self) { try await store.attachmentBytes(id: first.attachment.id, owner: stranger) }
        await #expect(throws: ParleyError.self) { try await store.deleteAttachment(id: first.attachment.id, owner: stranger) }

        let notes = try await store.saveAttachment(NewAttachment(name: "notes.md", mediaType: "text/markdown", kind: .file,
                                                                 bytes: Data("# Notes".utf8), sha256: "bb22", text: "# Notes"),
                                                   owner: owner)
        #expect(try await store.attachment(id: notes.attachment.id, owner: owner).text == "# Notes")
        let references = [first.attachment.reference, notes.attachment.reference]
        // Read without the bytes or the text, a reference is the same (a text's size counted in UTF-8 bytes).
        let accented = try await store.saveAttachment(NewAttachment(name: "café.txt", mediaType: "text/plain", kind: .file,
                                                                    bytes: Data("é".utf8), sha256: "cc33", text: String(repeating: "é", count: 9)),
                                                      owner: owner)
        for saved in [first.attachment, notes.attachment, accented.attachment] {
            #expect(try await store.attachmentReference(id: saved.id, owner: owner) == saved.reference)
        }
        #expect(accented.attachment.reference.tokens == 5)
        await #expect(throws: ParleyError.self) { try await store.attachmentReference(id: first.attachment.id, owner: stranger) }
        #expect(references[0].tokens == TokenEstimator.imageTokens && references[1].tokens == 2)

        let chat = try await conversations.createConversation(NewConversation(), owner: owner)
        let turn = try await conversations.startTurn(conversationID: chat.id, owner: owner, userContent: "", attachments: references,
                                                     model: "m", defaultModel: nil, historyLimit: 10, lease: .seconds(60),
                                                     replacingFrom: nil)
        #expect(turn.user.attachments == references)
        #expect(try await conversations.conversation(id: chat.id, owner: owner).title == "photo.png",
                "a message of attachments alone is titled by the first")
        _ = try await conversations.finishMessage(id: turn.assistant.id, MessageCompletion(content: "a photo", status: .complete))
        let page = try await conversations.messages(conversationID: chat.id, owner: owner, before: nil, limit: 10)
        #expect(page.messages.first?.attachments == references && page.messages.last?.attachments == [])
        #expect(try await conversations.message(id: turn.user.id, owner: owner).attachments == references)
        let next = try await conversations.startTurn(conversationID: chat.id, owner: owner, userContent: "and?", model: "m",
                                                     defaultModel: nil, historyLimit: 10, lease: .seconds(60))
        let question = try #require(next.history.last)
        #expect(question.message.content == "" && question.message.attachments == references,
                "a question of attachments alone is in the next turn's history: \(next.history)")
        #expect(try await conversations.contextMessages(conversationID: chat.id, before: next.user.index, limit: 10)
            .last?.message.attachments == references)

        try await store.deleteAttachment(id: first.attachment.id, owner: owner)
        await #expect(throws: ParleyError.self) { try await store.attachment(id: first.attachment.id, owner: owner) }
        #expect(try await conversations.message(id: turn.user.id, owner: owner).attachments == references,
                "the message keeps what it carried")
        #expect(try await store.attachment(id: theirs.attachment.id, owner: stranger).byteCount == bytes.count)
    }
}
