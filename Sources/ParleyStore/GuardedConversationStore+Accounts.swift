import Foundation
import ParleyAccounts
import ParleyCore

/// Account calls under the same deadline and outage rule as conversation calls.
extension GuardedConversationStore: AccountStore {
    private func guardedAccounts<T: Sendable>(operation: StaticString = #function,
                                              _ call: @escaping @Sendable (any AccountStore) async throws -> T) async throws -> T {
        guard let accounts = accountBase else { throw ParleyError.unavailable("this database keeps no accounts") }
        return try await guarded(operation: operation) { _ in try await call(accounts) }
    }

    public func userCount() async throws -> Int { try await guardedAccounts { try await $0.userCount() } }
    public func createUser(_ user: User, asFirstUser: Bool) async throws {
        try await guardedAccounts { try await $0.createUser(user, asFirstUser: asFirstUser) }
    }
    public func user(id: UserID) async throws -> User? { try await guardedAccounts { try await $0.user(id: id) } }
    public func user(email: String) async throws -> User? { try await guardedAccounts { try await $0.user(email: email) } }
    public func users(search: String?, limit: Int, offset: Int) async throws -> [User] {
        try await guardedAccounts { try await $0.users(search: search, limit: limit, offset: offset) }
    }
    public func updateUser(_ user: User) async throws -> Bool { try await guardedAccounts { try await $0.updateUser(user) } }
    public func deleteUser(id: UserID) async throws -> Bool { try await guardedAccounts { try await $0.deleteUser(id: id) } }

    public func createSession(_ session: SessionRecord) async throws {
        try await guardedAccounts { try await $0.createSession(session) }
    }
    public func session(tokenHash: String) async throws -> (SessionRecord, User)? {
        try await guardedAccounts { try await $0.session(tokenHash: tokenHash).map(SessionRow.init) }.map { ($0.session, $0.user) }
    }
    public func touchSession(id: UUID, at date: Date) async throws {
        try await guardedAccounts { try await $0.touchSession(id: id, at: date) }
    }
    public func sessions(userID: UserID) async throws -> [SessionRecord] {
        try await guardedAccounts { try await $0.sessions(userID: userID) }
    }
    public func deleteSession(id: UUID, userID: UserID) async throws -> Bool {
        try await guardedAccounts { try await $0.deleteSession(id: id, userID: userID) }
    }
    public func deleteSessions(userID: UserID, except: UUID?) async throws {
        try await guardedAccounts { try await $0.deleteSessions(userID: userID, except: except) }
    }
    public func deleteExpiredSessions(now: Date, idleSince: Date) async throws -> Int {
        try await guardedAccounts { try await $0.deleteExpiredSessions(now: now, idleSince: idleSince) }
    }

    public func createPasswordReset(tokenHash: String, userID: UserID, expiresAt: Date) async throws {
        try await guardedAccounts { try await $0.createPasswordReset(tokenHash: tokenHash, userID: userID, expiresAt: expiresAt) }
    }
    public func consumePasswordReset(tokenHash: String, now: Date) async throws -> UserID? {
        try await guardedAccounts { try await $0.consumePasswordReset(tokenHash: tokenHash, now: now) }
    }

    public func createKey(_ key: APIKeyRecord) async throws { try await guardedAccounts { try await $0.createKey(key) } }
    public func key(hash: String) async throws -> (APIKeyRecord, User)? {
        try await guardedAccounts { try await $0.key(hash: hash).map(KeyRow.init) }.map { ($0.key, $0.user) }
    }
    public func keys(userID: UserID) async throws -> [APIKeyRecord] { try await guardedAccounts { try await $0.keys(userID: userID) } }
    public func deleteKey(id: UUID, userID: UserID) async throws -> Bool {
        try await guardedAccounts { try await $0.deleteKey(id: id, userID: userID) }
    }
    public func touchKey(id: UUID, at date: Date) async throws { try await guardedAccounts { try await $0.touchKey(id: id, at: date) } }

    public func recordAudit(_ event: AuditEvent) async throws { try await guardedAccounts { try await $0.recordAudit(event) } }
    public func auditEvents(userID: UserID?, before: Date?, limit: Int) async throws -> [AuditEvent] {
        try await guardedAccounts { try await $0.auditEvents(userID: userID, before: before, limit: limit) }
    }
    public func deleteAuditEvents(before cutoff: Date) async throws -> Int {
        try await guardedAccounts { try await $0.deleteAuditEvents(before: cutoff) }
    }

    public func claimSecondFactorStep(userID: UserID, step: Int) async throws -> Bool {
        try await guardedAccounts { try await $0.claimSecondFactorStep(userID: userID, step: step) }
    }
    public func replaceRecoveryCodes(userID: UserID, from old: [String], to new: [String]) async throws -> Bool {
        try await guardedAccounts { try await $0.replaceRecoveryCodes(userID: userID, from: old, to: new) }
    }

    public func addUsage(_ records: [UsageRecord]) async throws { try await guardedAccounts { try await $0.addUsage(records) } }
    public func usage(userID: UserID, from firstDay: String) async throws -> [UsageRecord] {
        try await guardedAccounts { try await $0.usage(userID: userID, from: firstDay) }
    }
    public func spentTokens(userID: UserID, keyID: UUID?, from firstDay: String) async throws -> Int {
        try await guardedAccounts { try await $0.spentTokens(userID: userID, keyID: keyID, from: firstDay) }
    }
    public func usageByUser(from firstDay: String, limit: Int) async throws -> [UsageRecord] {
        try await guardedAccounts { try await $0.usageByUser(from: firstDay, limit: limit) }
    }
    public func deleteUsage(before day: String) async throws -> Int {
        try await guardedAccounts { try await $0.deleteUsage(before: day) }
    }
}

/// Tuples are not `Sendable` across the guard's task boundary; these carry them.
private struct SessionRow: Sendable {
    let session: SessionRecord
    let user: User
    init(_ pair: (SessionRecord, User)) { (session, user) = pair }
}

private struct KeyRow: Sendable {
    let key: APIKeyRecord
    let user: User
    init(_ pair: (APIKeyRecord, User)) { (key, user) = pair }
}

/// Saved prompt calls under the same deadline and outage rule.
extension GuardedConversationStore: PromptStore {
    private func guardedPrompts<T: Sendable>(operation: StaticString = #function,
                                             _ call: @escaping @Sendable (any PromptStore) async throws -> T) async throws -> T {
        guard let prompts = base as? any PromptStore else { throw ParleyError.unavailable("this database keeps no prompts") }
        return try await guarded(operation: operation) { _ in try await call(prompts) }
    }

    public func createPrompt(_ draft: PromptDraft, owner: UserID, maxPerUser: Int) async throws -> SavedPrompt {
        try await guardedPrompts { try await $0.createPrompt(draft, owner: owner, maxPerUser: maxPerUser) }
    }
    public func prompts(owner: UserID) async throws -> [SavedPrompt] {
        try await guardedPrompts { try await $0.prompts(owner: owner) }
    }
    public func updatePrompt(id: UUID, owner: UserID, draft: PromptDraft) async throws -> SavedPrompt {
        try await guardedPrompts { try await $0.updatePrompt(id: id, owner: owner, draft: draft) }
    }
    public func deletePrompt(id: UUID, owner: UserID) async throws {
        try await guardedPrompts { try await $0.deletePrompt(id: id, owner: owner) }
    }
}

/// Shared-link calls under the same deadline and outage rule.
extension GuardedConversationStore: ConversationShareStore {
    private func guardedShares<T: Sendable>(operation: StaticString = #function,
                                            _ call: @escaping @Sendable (any ConversationShareStore) async throws -> T) async throws -> T {
        guard let shares = base as? any ConversationShareStore else { throw ParleyError.unavailable("this database keeps no shared links") }
        return try await guarded(operation: operation) { _ in try await call(shares) }
    }

    public func createShare(conversationID: UUID, owner: UserID, audience: ShareAudience, tokenDigest: String,
                            maxPerConversation: Int) async throws -> ConversationShare {
        try await guardedShares {
            try await $0.createShare(conversationID: conversationID, owner: owner, audience: audience, tokenDigest: tokenDigest,
                                     maxPerConversation: maxPerConversation)
        }
    }
    public func shares(conversationID: UUID, owner: UserID) async throws -> [ConversationShare] {
        try await guardedShares { try await $0.shares(conversationID: conversationID, owner: owner) }
    }
    public func deleteShare(id: UUID, conversationID: UUID, owner: UserID) async throws {
        try await guardedShares { try await $0.deleteShare(id: id, conversationID: conversationID, owner: owner) }
    }
    public func sharedConversation(tokenDigest: String) async throws -> SharedConversation {
        try await guardedShares { try await $0.sharedConversation(tokenDigest: tokenDigest) }
    }
}

/// Attachment calls under the same deadline and outage rule.
extension GuardedConversationStore: AttachmentStore {
    private func guardedAttachments<T: Sendable>(operation: StaticString = #function,
                                                 _ call: @escaping @Sendable (any AttachmentStore) async throws -> T) async throws -> T {
        guard let attachments = base as? any AttachmentStore else { throw ParleyError.unavailable("this database keeps no attachments") }
        return try await guarded(operation: operation) { _ in try await call(attachments) }
    }

    public func saveAttachment(_ new: NewAttachment, owner: UserID) async throws -> (attachment: Attachment, duplicate: Bool) {
        let result = try await guardedAttachments { store in
            let saved = try await store.saveAttachment(new, owner: owner)
            return SavedAttachment(attachment: saved.attachment, duplicate: saved.duplicate)
        }
        return (result.attachment, result.duplicate)
    }
    public func attachment(id: UUID, owner: UserID) async throws -> Attachment {
        try await guardedAttachments { try await $0.attachment(id: id, owner: owner) }
    }
    public func attachmentReference(id: UUID, owner: UserID) async throws -> AttachmentReference {
        try await guardedAttachments { try await $0.attachmentReference(id: id, owner: owner) }
    }
    public func attachmentBytes(id: UUID, owner: UserID) async throws -> (attachment: Attachment, bytes: Data) {
        let result = try await guardedAttachments { store in
            let read = try await store.attachmentBytes(id: id, owner: owner)
            return AttachmentWithBytes(attachment: read.attachment, bytes: read.bytes)
        }
        return (result.attachment, result.bytes)
    }
    public func deleteAttachment(id: UUID, owner: UserID) async throws {
        try await guardedAttachments { try await $0.deleteAttachment(id: id, owner: owner) }
    }
}

private struct SavedAttachment: Sendable {
    let attachment: Attachment
    let duplicate: Bool
}

private struct AttachmentWithBytes: Sendable {
    let attachment: Attachment
    let bytes: Data
}
