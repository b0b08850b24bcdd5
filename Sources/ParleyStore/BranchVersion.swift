import Foundation
import ParleyCore

/// One version of a message, as the sibling lookup of a history page reads it: messages with the same parent and
/// role are versions of one another (an edit or a regeneration left the older ones).
struct BranchVersion {
    var id: UUID?
    var parentID: UUID?
    var role: String
    var index: Int

    /// The page's messages with ``Message/siblingIDs`` set (oldest first) where a message has more than one version.
    static func attach(_ versions: [BranchVersion], to messages: [Message]) -> [Message] {
        var groups: [String: [UUID]] = [:]
        for version in versions.sorted(by: { $0.index < $1.index }) {
            guard let id = version.id else { continue }
            groups[key(parent: version.parentID, role: version.role), default: []].append(id)
        }
        return messages.map { message in
            var message = message
            if let ids = groups[key(parent: message.parentID, role: message.role.rawValue)], ids.count > 1 {
                message.siblingIDs = ids
            }
            return message
        }
    }

    /// False when a conversation cannot hold versions: as many messages on its active branch as indexes given
    /// out means none was replaced (an edit takes at least two off the branch) and none deleted.
    static func mayHaveVersions(messageCount: Int, lastIndex: Int) -> Bool {
        messageCount != lastIndex
    }

    private static func key(parent: UUID?, role: String) -> String {
        (parent?.lowercased ?? "") + "/" + role
    }
}

extension Message {
    /// This message, on or off the active branch.
    func onBranch(_ active: Bool) -> Message {
        var message = self
        message.onActiveBranch = active
        return message
    }
}
