import Foundation
import ParleyCore
import ParleyProviders
import ParleyStore

/// What the route handlers use, built once per server.
struct ParleyServices: Sendable {
    let config: ParleyConfig
    let store: GuardedConversationStore
    let models: any ModelDirectory
    /// The provider router behind `/v1` (and behind `models` for the chat API).
    let router: ModelRouter
    let hub: GenerationHub
    let chat: ChatService
    let feed: GenerationFeed
    /// Until accounts exist, every request acts as the local user.
    let owner = UserID.local
}
