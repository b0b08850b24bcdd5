import Foundation
import ParleyCore

/// The chat apps whose exports Parley reads, each element of an export told apart by its shape.
public enum ExportFormat: String, Sendable, Codable {
    /// ChatGPT's `conversations.json`: conversations with a `mapping` of nodes and a `current_node`.
    case chatGPT = "chatgpt"
    /// Open WebUI's chat export: chats with a `history` of messages by id and a `currentId`.
    case openWebUI = "open-webui"
    /// LibreChat's conversation export: `conversationId` and `messages`, flat (with `parentMessageId`) or nested
    /// (`children`).
    case libreChat = "librechat"
    /// Parley's own JSON export (the ⚙ dialog's): the conversation and every message of every branch.
    case parley

    /// The format of one exported conversation, nil when it is none Parley knows.
    public static func of(_ object: [String: Any]) -> ExportFormat? {
        if object["mapping"] is [String: Any] { return .chatGPT }
        if object["conversation"] is [String: Any], object["messages"] is [Any], object["exported_at"] != nil { return .parley }
        if object["conversationId"] != nil, object["messages"] is [Any] { return .libreChat }
        if let chat = object["chat"] as? [String: Any], chat["history"] != nil || chat["messages"] != nil { return .openWebUI }
        if object["history"] is [String: Any] { return .openWebUI }
        return nil
    }

    /// The conversation in the export's element, as a tree.
    public func read(_ object: [String: Any]) -> ImportedConversation {
        switch self {
        case .chatGPT: Self.readChatGPT(object)
        case .openWebUI: Self.readOpenWebUI(object)
        case .libreChat: Self.readLibreChat(object)
        case .parley: Self.readParley(object)
        }
    }

    // MARK: ChatGPT

    static func readChatGPT(_ object: [String: Any]) -> ImportedConversation {
        let mapping = object["mapping"] as? [String: Any] ?? [:]
        var nodes: [ImportedConversation.Node] = []
        for (key, value) in mapping {
            guard let entry = value as? [String: Any] else { continue }
            let message = entry["message"] as? [String: Any]
            let author = (message?["author"] as? [String: Any])?["role"] as? String
            let metadata = message?["metadata"] as? [String: Any]
            let hidden = metadata?["is_visually_hidden_from_conversation"] as? Bool == true
            let content = message?["content"] as? [String: Any]
            var text = content.map(textOfChatGPTContent) ?? ""
            if hidden { text = "" }
            nodes.append(.init(id: entry["id"] as? String ?? key, parentID: entry["parent"] as? String,
                               role: author.flatMap(role(named:)), text: text, createdAt: date(message?["create_time"]),
                               model: metadata?["model_slug"] as? String))
        }
        return ImportedConversation(title: object["title"] as? String ?? "", createdAt: date(object["create_time"]),
                                    updatedAt: date(object["update_time"]), nodes: nodes,
                                    activeLeaf: object["current_node"] as? String)
    }

    /// The text of a ChatGPT message: its string parts (images and other attachments are left out), or `text`.
    static func textOfChatGPTContent(_ content: [String: Any]) -> String {
        if let parts = content["parts"] as? [Any] {
            return parts.compactMap { part in
                if let text = part as? String { return text }
                return (part as? [String: Any])?["text"] as? String
            }.joined(separator: "\n")
        }
        return content["text"] as? String ?? ""
    }

    // MARK: Open WebUI

    static func readOpenWebUI(_ object: [String: Any]) -> ImportedConversation {
        let chat = object["chat"] as? [String: Any] ?? object
        var nodes: [ImportedConversation.Node] = []
        var activeLeaf: String?
        if let history = chat["history"] as? [String: Any], let messages = history["messages"] as? [String: Any] {
            for (key, value) in messages {
                guard let message = value as? [String: Any] else { continue }
                nodes.append(openWebUINode(message, id: message["id"] as? String ?? key,
                                           parent: message["parentId"] as? String))
            }
            activeLeaf = history["currentId"] as? String
        } else if let list = chat["messages"] as? [Any] {
            // Older exports: the shown branch only, in order.
            var previous: String?
            for (position, value) in list.enumerated() {
                guard let message = value as? [String: Any] else { continue }
                let id = message["id"] as? String ?? "message-\(position)"
                nodes.append(openWebUINode(message, id: id, parent: message["parentId"] as? String ?? previous))
                previous = id
            }
        }
        let title = object["title"] as? String ?? chat["title"] as? String ?? ""
        return ImportedConversation(title: title, createdAt: date(object["created_at"] ?? chat["timestamp"]),
                                    updatedAt: date(object["updated_at"]), nodes: nodes, activeLeaf: activeLeaf)
    }

    static func openWebUINode(_ message: [String: Any], id: String, parent: String?) -> ImportedConversation.Node {
        let model = message["model"] as? String ?? (message["models"] as? [String])?.first
        return .init(id: id, parentID: parent, role: (message["role"] as? String).flatMap(role(named:)),
                     text: text(of: message["content"]), createdAt: date(message["timestamp"]), model: model)
    }

    // MARK: LibreChat

    static func readLibreChat(_ object: [String: Any]) -> ImportedConversation {
        var nodes: [ImportedConversation.Node] = []
        // Nested exports carry `children`; walked without recursion, so a deep tree cannot exhaust the stack.
        var pending: [(message: [String: Any], parent: String?)] = (object["messages"] as? [Any] ?? [])
            .compactMap { $0 as? [String: Any] }.reversed().map { ($0, nil) }
        var position = 0
        while let (message, nestedParent) = pending.popLast() {
            position += 1
            let id = message["messageId"] as? String ?? "message-\(position)"
            var parent = message["parentMessageId"] as? String ?? nestedParent
            if parent == "00000000-0000-0000-0000-000000000000" { parent = nil }
            let byUser = message["isCreatedByUser"] as? Bool ?? ((message["sender"] as? String)?.lowercased() == "user")
            let text = (message["text"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? Self.text(of: message["content"])
            nodes.append(.init(id: id, parentID: parent, role: byUser ? .user : .assistant, text: text,
                               createdAt: date(message["createdAt"]), model: message["model"] as? String))
            for child in (message["children"] as? [Any] ?? []).reversed() {
                if let child = child as? [String: Any] { pending.append((child, id)) }
            }
        }
        return ImportedConversation(title: object["title"] as? String ?? "", createdAt: date(object["createdAt"]),
                                    updatedAt: date(object["updatedAt"]), nodes: nodes, activeLeaf: nil)
    }

    // MARK: Parley

    static func readParley(_ object: [String: Any]) -> ImportedConversation {
        let conversation = object["conversation"] as? [String: Any] ?? [:]
        var nodes: [ImportedConversation.Node] = []
        var leaf: (index: Int, id: String)?
        for case let message as [String: Any] in object["messages"] as? [Any] ?? [] {
            guard let id = message["id"] as? String else { continue }
            let index = message["index"] as? Int ?? 0
            if message["active"] as? Bool ?? true, index >= (leaf?.index ?? 0) { leaf = (index, id) }
            nodes.append(.init(id: id, parentID: message["parent_id"] as? String,
                               role: (message["role"] as? String).flatMap(role(named:)), text: text(of: message["content"]),
                               createdAt: date(message["created_at"]), model: message["model"] as? String))
        }
        var imported = ImportedConversation(title: conversation["title"] as? String ?? "",
                                            createdAt: date(conversation["created_at"]),
                                            updatedAt: date(conversation["updated_at"]), nodes: nodes, activeLeaf: leaf?.id)
        imported.systemPrompt = conversation["system_prompt"] as? String
        return imported
    }

    // MARK: Shared

    static func role(named name: String) -> Role? {
        switch name.lowercased() {
        case "user", "human": .user
        case "assistant", "model", "bot": .assistant
        default: nil
        }
    }

    /// A message's text: a string, or the text parts of a list of content parts.
    static func text(of content: Any?) -> String {
        if let text = content as? String { return text }
        guard let parts = content as? [Any] else { return "" }
        return parts.compactMap { part -> String? in
            guard let part = part as? [String: Any] else { return part as? String }
            if let text = part["text"] as? String { return text }
            return (part["text"] as? [String: Any])?["value"] as? String
        }.joined(separator: "\n")
    }

    /// A time given as seconds since 1970 (milliseconds or nanoseconds when too large for seconds) or as ISO 8601.
    static func date(_ value: Any?) -> Date? {
        if let number = value as? NSNumber, !(value is Bool) {
            var seconds = number.doubleValue
            while seconds > 100_000_000_000 { seconds /= 1000 } // milliseconds, microseconds, nanoseconds
            return seconds > 0 ? Date(timeIntervalSince1970: seconds) : nil
        }
        guard let text = value as? String else { return nil }
        return (try? Date(text, strategy: withFraction)) ?? (try? Date(text, strategy: .iso8601))
    }

    /// Made once: an export has a time on every message.
    static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
