import Foundation
import NIOCore
import ParleyCore
import PostgresNIO

/// Attachments in PostgreSQL: one row each with its bytes, unique per owner by content.
extension PostgresConversationStore: AttachmentStore {
    public func saveAttachment(_ new: NewAttachment, owner: UserID) async throws -> (attachment: Attachment, duplicate: Bool) {
        let now = Date(millis: Date().millis)
        let fresh = Attachment(id: .v7(now: now), ownerID: owner, name: new.name, mediaType: new.mediaType, kind: new.kind,
                               byteCount: new.bytes.count, sha256: new.sha256, text: new.text, createdAt: now)
        let bytes = ByteBuffer(bytes: new.bytes)
        return try await perform {
            let inserted = try await client.query("""
                INSERT INTO attachments (id, owner_id, sha256, name, media_type, kind, byte_count, text, bytes, created_at)
                VALUES (\(fresh.id), \(owner.rawValue), \(fresh.sha256), \(fresh.name), \(fresh.mediaType),
                        \(fresh.kind.rawValue), \(fresh.byteCount), \(fresh.text), \(bytes), \(now.millis))
                ON CONFLICT (owner_id, sha256) DO NOTHING RETURNING id
                """, logger: logger).collect()
            if !inserted.isEmpty { return (fresh, false) }
            let rows = try await client.query("""
                SELECT \(unescaped: SQLiteConversationStore.attachmentColumns) FROM attachments
                WHERE owner_id = \(owner.rawValue) AND sha256 = \(new.sha256)
                """, logger: logger).collect()
            guard let row = rows.first else { throw StoreError.corrupt("attachment \(new.sha256) vanished while stored") }
            return (try Self.attachment(from: row), true)
        }
    }

    public func attachment(id: UUID, owner: UserID) async throws -> Attachment {
        let rows = try await perform {
            try await client.query("""
                SELECT \(unescaped: SQLiteConversationStore.attachmentColumns) FROM attachments
                WHERE id = \(id) AND owner_id = \(owner.rawValue)
                """, logger: logger).collect()
        }
        guard let row = rows.first else { throw SQLiteConversationStore.noAttachment(id) }
        return try Self.attachment(from: row)
    }

    public func attachmentReference(id: UUID, owner: UserID) async throws -> AttachmentReference {
        let rows = try await perform {
            try await client.query("""
                SELECT name, media_type, kind, byte_count, coalesce(octet_length(text), 0)::bigint FROM attachments
                WHERE id = \(id) AND owner_id = \(owner.rawValue)
                """, logger: logger).collect()
        }
        guard let row = rows.first else { throw SQLiteConversationStore.noAttachment(id) }
        let (name, mediaType, kindText, size, textBytes) = try row.decode((String, String, String, Int, Int).self)
        guard let kind = AttachmentKind(rawValue: kindText) else { throw StoreError.corrupt("bad attachment kind \(kindText)") }
        return AttachmentReference(id: id, name: name, mediaType: mediaType, kind: kind, size: size,
                                   tokens: AttachmentReference.tokens(kind: kind, textBytes: textBytes))
    }

    public func attachmentBytes(id: UUID, owner: UserID) async throws -> (attachment: Attachment, bytes: Data) {
        let rows = try await perform {
            try await client.query("""
                SELECT \(unescaped: SQLiteConversationStore.attachmentColumns), bytes FROM attachments
                WHERE id = \(id) AND owner_id = \(owner.rawValue)
                """, logger: logger).collect()
        }
        guard let row = rows.first else { throw SQLiteConversationStore.noAttachment(id) }
        let buffer = try row.makeRandomAccess()["bytes"].decode(ByteBuffer.self)
        return (try Self.attachment(from: row), Data(buffer.readableBytesView))
    }

    public func deleteAttachment(id: UUID, owner: UserID) async throws {
        let rows = try await perform {
            try await client.query("DELETE FROM attachments WHERE id = \(id) AND owner_id = \(owner.rawValue) RETURNING id",
                                   logger: logger).collect()
        }
        guard !rows.isEmpty else { throw SQLiteConversationStore.noAttachment(id) }
    }

    static func attachment(from row: PostgresRow) throws -> Attachment {
        let columns = row.makeRandomAccess()
        let kindText = try columns["kind"].decode(String.self)
        guard let kind = AttachmentKind(rawValue: kindText) else { throw StoreError.corrupt("bad attachment kind \(kindText)") }
        return Attachment(id: try columns["id"].decode(UUID.self), ownerID: UserID(try columns["owner_id"].decode(String.self)),
                          name: try columns["name"].decode(String.self), mediaType: try columns["media_type"].decode(String.self),
                          kind: kind, byteCount: try columns["byte_count"].decode(Int.self),
                          sha256: try columns["sha256"].decode(String.self), text: try columns["text"].decode(String?.self),
                          createdAt: Date(millis: try columns["created_at"].decode(Int64.self)))
    }
}
