import Foundation
import ParleyCore

/// A conversation read from another app's export, before it becomes Parley's: its messages as a tree of nodes
/// with the app's own ids, and the node the app showed last.
public struct ImportedConversation: Sendable {
    /// One message of the export (or a node Parley leaves out: no text, a tool's or the system's).
    public struct Node: Sendable {
        public var id: String
        public var parentID: String?
        /// nil: left out, its children attached to its parent.
        public var role: Role?
        public var text: String
        public var createdAt: Date?
        public var model: String?
        public init(id: String, parentID: String?, role: Role?, text: String, createdAt: Date?, model: String? = nil) {
            self.id = id
            self.parentID = parentID
            self.role = role
            self.text = text
            self.createdAt = createdAt
            self.model = model
        }
    }

    public var title: String
    public var createdAt: Date?
    public var updatedAt: Date?
    public var nodes: [Node]
    /// The node the app had selected (its current branch ends there); nil: the newest leaf.
    public var activeLeaf: String?
    /// The conversation's own system prompt, where the export has one.
    public var systemPrompt: String?

    public init(title: String, createdAt: Date?, updatedAt: Date?, nodes: [Node], activeLeaf: String?) {
        self.title = title
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.nodes = nodes
        self.activeLeaf = activeLeaf
    }

    /// Longest title kept.
    static let maxTitleLength = 200

    /// Parley's conversation: the user and assistant messages with text, each under its nearest kept ancestor,
    /// numbered so that every message comes after its parent (siblings oldest first), the branch through the
    /// active leaf active. Nil when no message has text.
    public func conversationImport(owner: UserID, now: Date = Date()) -> ConversationImport? {
        var byID: [String: Node] = [:]
        for node in nodes where byID[node.id] == nil { byID[node.id] = node }
        func isKept(_ node: Node) -> Bool {
            (node.role == .user || node.role == .assistant)
                && !node.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        }
        /// The nearest kept ancestor of a node (a cycle or a missing parent ends the walk).
        func keptAncestor(of node: Node) -> String? {
            var seen: Set<String> = [node.id]
            var parent = node.parentID
            while let id = parent, let candidate = byID[id], seen.insert(id).inserted {
                if isKept(candidate) { return id }
                parent = candidate.parentID
            }
            return nil
        }
        var order: [String: Int] = [:]
        for (position, node) in nodes.enumerated() where order[node.id] == nil { order[node.id] = position }
        let kept = byID.values.filter(isKept)
        guard !kept.isEmpty else { return nil }
        var parentOf: [String: String] = [:]
        var children: [String?: [Node]] = [:]
        for node in kept {
            let parent = keptAncestor(of: node)
            if let parent { parentOf[node.id] = parent }
            children[parent, default: []].append(node)
        }
        let start = createdAt ?? kept.compactMap(\.createdAt).min() ?? now
        func sortKey(_ node: Node) -> (Double, Int) {
            ((node.createdAt ?? start).timeIntervalSince1970, order[node.id] ?? 0)
        }
        // Depth first, parents before children, siblings oldest first: every branch's indexes rise.
        // Nodes caught in a cycle of parents are reached from none of the roots: the oldest of each becomes one.
        var sequence: [Node] = []
        var visited: Set<String> = []
        var starts = (children[nil] ?? []).sorted { sortKey($0) < sortKey($1) }
            + kept.filter { parentOf[$0.id] != nil }.sorted { sortKey($0) < sortKey($1) }
        starts.reverse()
        while let start = starts.popLast() {
            guard !visited.contains(start.id) else { continue }
            if parentOf[start.id].map({ !visited.contains($0) }) == true { parentOf[start.id] = nil }
            var stack = [start]
            while let node = stack.popLast() {
                guard visited.insert(node.id).inserted else { continue }
                sequence.append(node)
                stack.append(contentsOf: (children[node.id] ?? []).sorted { sortKey($0) > sortKey($1) })
            }
        }
        // The active branch: from the app's selected node (or its nearest kept ancestor), else the newest leaf.
        var leaf: String?
        if let selected = activeLeaf, let node = byID[selected] {
            leaf = isKept(node) ? node.id : keptAncestor(of: node)
        }
        if leaf == nil {
            leaf = sequence.filter { children[$0.id] == nil }.max { sortKey($0) < sortKey($1) }?.id
        }
        var active: Set<String> = []
        var walk = leaf
        while let id = walk, active.insert(id).inserted { walk = parentOf[id] }

        var ids: [String: UUID] = [:]
        var messages: [Message] = []
        var previousTime = start
        for (position, node) in sequence.enumerated() {
            // Times never go backwards along the list: a message is never older than the one before it.
            let time = max(node.createdAt ?? previousTime, previousTime)
            previousTime = time
            let id = UUID.v7(now: time)
            ids[node.id] = id
            var message = Message(id: id, conversationID: UUID(), index: position + 1,
                                  parentID: parentOf[node.id].flatMap { ids[$0] }, role: node.role ?? .user,
                                  content: node.text, model: node.role == .assistant ? node.model : nil,
                                  status: .complete, createdAt: time, updatedAt: time)
            message.onActiveBranch = active.contains(node.id)
            messages.append(message)
        }
        let conversationID = UUID.v7(now: start)
        for position in messages.indices { messages[position].conversationID = conversationID }
        let trimmedTitle = title.trimmingCharacters(in: .whitespacesAndNewlines)
        let firstQuestion = messages.first { $0.role == .user }?.content ?? "Imported conversation"
        let name = String((trimmedTitle.isEmpty ? firstQuestion : trimmedTitle).prefix(Self.maxTitleLength))
        let updated = max(updatedAt ?? previousTime, previousTime)
        let prompt = systemPrompt.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        let conversation = Conversation(id: conversationID, ownerID: owner, title: name, model: nil, systemPrompt: prompt,
                                        messageCount: active.count, createdAt: start, updatedAt: updated)
        var result = ConversationImport(conversation: conversation, messages: messages)
        result.parentsAreExplicit = true
        return result
    }
}
