import ArgumentParser
import Foundation
import ParleyClient

/// `parley conversations list|show|export|delete`: the conversations on the server, the web UI's too.
struct Conversations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conversations",
        abstract: "List, show, export or delete your conversations on the server.",
        subcommands: [List.self, Show.self, Export.self, Delete.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "The newest conversations first: id, last activity, title.")
        @Option(help: "How many (1 to 10000).") var limit = 20
        @Option(help: "Only titles containing these words.") var search: String?
        @Flag(help: "Print JSON (an array of conversations).") var json = false
        @OptionGroup var connection: ClientOptions

        func validate() throws {
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be 1 to 10000") }
        }

        func run() async throws {
            try await withRemote(connection) { remote in
                let conversations = try await remote.conversations(limit: limit, search: search)
                if json { return emit(try jsonText(conversations)) }
                for conversation in conversations {
                    emit("\(conversation.id)  \(conversation.updatedAt)  \(conversation.title)\n")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "A conversation's messages, oldest first.")
        @Argument(help: "The conversation's id.") var id: String
        @Flag(help: "Print JSON: {\"conversation\", \"messages\"}.") var json = false
        @OptionGroup var connection: ClientOptions

        func run() async throws {
            try await withRemote(connection) { remote in
                let transcript = try await Transcript.load(id, from: remote)
                emit(json ? try jsonText(transcript) : transcript.plainText)
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "export", abstract: "A conversation as Markdown or JSON, to a file or standard output.")
        @Argument(help: "The conversation's id.") var id: String
        @Option(help: "md or json.") var format = "md"
        @Option(name: [.customShort("o"), .customLong("output")], help: "Write to this file instead of standard output.")
        var output: String?
        @OptionGroup var connection: ClientOptions

        func validate() throws {
            guard ["md", "json"].contains(format) else { throw ValidationError("--format must be md or json") }
        }

        func run() async throws {
            try await withRemote(connection) { remote in
                let transcript = try await Transcript.load(id, from: remote)
                let text = format == "json" ? try jsonText(transcript) : transcript.markdown
                guard let output else { return emit(text) }
                guard FileManager.default.createFile(atPath: output, contents: Data(text.utf8)) else {
                    throw ClientFailure("cannot write \(output)")
                }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a conversation and all its messages.")
        @Argument(help: "The conversation's id.") var id: String
        @OptionGroup var connection: ClientOptions

        func run() async throws {
            try await withRemote(connection) { remote in try await remote.deleteConversation(id) }
        }
    }
}

/// A conversation with all its messages.
struct Transcript: Encodable {
    var conversation: RemoteConversation
    var messages: [RemoteMessage]

    static func load(_ id: String, from remote: RemoteParley) async throws -> Transcript {
        Transcript(conversation: try await remote.conversation(id), messages: try await remote.messages(of: id))
    }

    var plainText: String {
        var text = "\(conversation.title)\n"
        for message in messages {
            let status = message.status == "complete" ? "" : " (\(message.status))"
            text += "\n── \(message.role)\(message.model.map { " · \($0)" } ?? "")\(status)\n\(message.content)\n"
        }
        return text
    }

    var markdown: String {
        var text = "# \(conversation.title)\n"
        if let prompt = conversation.systemPrompt { text += "\n> System: \(prompt)\n" }
        for message in messages {
            let who = message.role == "user" ? "User" : message.role == "assistant" ? "Assistant" : message.role.capitalized
            let status = message.status == "complete" ? "" : " (\(message.status))"
            text += "\n**\(who)**\(message.model.map { " (\($0))" } ?? "")\(status)\n\n\(message.content)\n"
        }
        return text
    }
}
