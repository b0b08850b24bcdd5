import Foundation
import GRDB
import ParleyCore

/// Attachments in SQLite: one row each with its bytes, unique per owner by content.
extension SQLiteConversationStore: AttachmentStore {
    static let attachmentColumns = "id, owner_id, sha256, name, media_type, kind, byte_count, text, created_at"

    public func saveAttachment(_ new: NewAttachment, owner: UserID) async throws -> (attachment: Attachment, duplicate: Bool) {
        let now = Date(millis: Date().millis)
        let fresh = Attachment(id: .v7(now: now), ownerID: owner, name: new.name, mediaType: new.mediaType, kind: new.kind,
                               byteCount: new.bytes.count, sha256: new.sha256, text: new.text, createdAt: now)
        return try await write { db in
            if let row = try Row.fetchOne(db, sql: "SELECT \(Self.attachmentColumns) FROM attachments WHERE owner_id = ? AND sha256 = ?",
                                          arguments: [owner.rawValue, new.sha256]) {
                return (try Self.attachment(from: row), true)
            }
            try db.execute(sql: """
                INSERT INTO attachments (id, owner_id, sha256, name, media_type, kind, byte_count, text, bytes, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [fresh.id.lowercased, owner.rawValue, fresh.sha256, fresh.name, fresh.mediaType,
                                 fresh.kind.rawValue, fresh.byteCount, fresh.text, new.bytes, now.millis])
            return (fresh, false)
        }
    }

    public func attachment(id: UUID, owner: UserID) async throws -> Attachment {
        let found = try await read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.attachmentColumns) FROM attachments WHERE id = ? AND owner_id = ?",
                             arguments: [id.lowercased, owner.rawValue]).map(Self.attachment(from:))
        }
        guard let found else { throw Self.noAttachment(id) }
        return found
    }

    public func attachmentReference(id: UUID, owner: UserID) async throws -> AttachmentReference {
        let found = try await read { db -> AttachmentReference? in
            try Row.fetchOne(db, sql: """
                SELECT id, name, media_type, kind, byte_count, coalesce(length(CAST(text AS BLOB)), 0) AS text_bytes
                FROM attachments WHERE id = ? AND owner_id = ?
                """, arguments: [id.lowercased, owner.rawValue]).map { row in
                let kindText: String = row["kind"]
                guard let kind = AttachmentKind(rawValue: kindText) else { throw StoreError.corrupt("bad attachment kind \(kindText)") }
                return AttachmentReference(id: try Self.uuid(row, "id"), name: row["name"], mediaType: row["media_type"], kind: kind,
                                           size: row["byte_count"], tokens: AttachmentReference.tokens(kind: kind, textBytes: row["text_bytes"]))
            }
        }
        guard let found else { throw Self.noAttachment(id) }
        return found
    }

    public func attachmentBytes(id: UUID, owner: UserID) async throws -> (attachment: Attachment, bytes: Data) {
        let found = try await read { db -> AttachmentRow? in
            try Row.fetchOne(db, sql: "SELECT \(Self.attachmentColumns), bytes FROM attachments WHERE id = ? AND owner_id = ?",
                             arguments: [id.lowercased, owner.rawValue]).map { AttachmentRow(attachment: try Self.attachment(from: $0), bytes: $0["bytes"]) }
        }
        guard let found else { throw Self.noAttachment(id) }
        return (found.attachment, found.bytes)
    }

    public func deleteAttachment(id: UUID, owner: UserID) async throws {
        let deleted = try await write { db -> Bool in
            try db.execute(sql: "DELETE FROM attachments WHERE id = ? AND owner_id = ?", arguments: [id.lowercased, owner.rawValue])
            return db.changesCount > 0
        }
        guard deleted else { throw Self.noAttachment(id) }
    }

    static func noAttachment(_ id: UUID) -> ParleyError { .notFound("no attachment with id \(id.lowercased)") }

    static func attachment(from row: Row) throws -> Attachment {
        let kindText: String = row["kind"]
        guard let kind = AttachmentKind(rawValue: kindText) else { throw StoreError.corrupt("bad attachment kind \(kindText)") }
        return Attachment(id: try uuid(row, "id"), ownerID: UserID(row["owner_id"]), name: row["name"],
                          mediaType: row["media_type"], kind: kind, byteCount: row["byte_count"], sha256: row["sha256"],
                          text: row["text"], createdAt: Date(millis: row["created_at"]))
    }
}

private struct AttachmentRow: Sendable {
    let attachment: Attachment
    let bytes: Data
}
