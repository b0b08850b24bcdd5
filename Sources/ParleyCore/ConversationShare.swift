import Foundation

/// Who may open a conversation's shared link.
public enum ShareAudience: String, Sendable, CaseIterable {
    /// Anyone with the link, signed in or not.
    case anyone
    /// Anyone with the link who is signed in to this Parley.
    case signedIn = "signed_in"
}

/// A read-only link to a conversation as it was when shared: the messages up to ``throughIndex`` (later ones are
/// never shown; earlier ones deleted since are gone from it too). The link's token is shown once, when it is
/// made; the store keeps only its SHA-256 digest. Revoking deletes the row, and with it the link.
public struct ConversationShare: Sendable, Equatable {
    public var id: UUID
    public var conversationID: UUID
    public var audience: ShareAudience
    /// The index of the last message the link shows.
    public var throughIndex: Int
    public var createdAt: Date

    public init(id: UUID, conversationID: UUID, audience: ShareAudience, throughIndex: Int, createdAt: Date) {
        self.id = id
        self.conversationID = conversationID
        self.audience = audience
        self.throughIndex = throughIndex
        self.createdAt = createdAt
    }
}

/// A shared link as its visitors see it: the share, and the conversation's owner and title.
public struct SharedConversation: Sendable, Equatable {
    public var share: ConversationShare
    public var ownerID: UserID
    public var title: String

    public init(share: ConversationShare, ownerID: UserID, title: String) {
        self.share = share
        self.ownerID = ownerID
        self.title = title
    }
}

/// Shared links, scoped by the conversation's owner; a link is found by its token's digest alone.
public protocol ConversationShareStore: Sendable {
    /// A link to the conversation's messages so far. Throws `notFound` for another owner's conversation,
    /// `conflict` for one without messages or with `maxPerConversation` links already.
    func createShare(conversationID: UUID, owner: UserID, audience: ShareAudience, tokenDigest: String,
                     maxPerConversation: Int) async throws -> ConversationShare
    /// The conversation's links, newest first.
    func shares(conversationID: UUID, owner: UserID) async throws -> [ConversationShare]
    /// Revokes one link for good; `notFound` unless it is a link of the owner's conversation.
    func deleteShare(id: UUID, conversationID: UUID, owner: UserID) async throws
    /// The link with this token digest; `notFound` when there is none (never made, or revoked).
    func sharedConversation(tokenDigest: String) async throws -> SharedConversation
}
