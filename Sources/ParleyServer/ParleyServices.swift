import Foundation
import ParleyCore

/// What the route handlers use, built once per server.
struct ParleyServices: Sendable {
    let config: ParleyConfig
    let store: any ConversationStore
    let models: any ModelDirectory
    let hub: GenerationHub
    let chat: ChatService
    let feed: GenerationFeed
    /// Until accounts exist, every request acts as the local user.
    let owner = UserID.local
}
