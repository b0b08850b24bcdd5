import Foundation
import ParleyClient

/// The `/commands` of `parley chat`.
enum ChatCommand: String, CaseIterable {
    case new, list, open, search, model, system, retry, edit, copy, export, help, quit, exit

    var name: String { "/" + rawValue }

    var usage: String {
        switch self {
        case .new: "/new                   start a new conversation"
        case .list: "/list [N]              your newest conversations (20), numbered for /open"
        case .open: "/open N|ID             continue a conversation: a number from /list or /search, or its id"
        case .search: "/search WORDS          search your conversations' titles and messages"
        case .model: "/model [NAME]          the models, or use NAME from now on"
        case .system: "/system [TEXT]         the system prompt, or set it"
        case .retry: "/retry                 answer the last message again (the old answer is replaced)"
        case .edit: "/edit                  change the last message and send it again"
        case .copy: "/copy [code]           copy the last answer (or its first code block) to the clipboard"
        case .export: "/export md|json FILE   save the conversation to a file"
        case .help: "/help                  this list"
        case .quit: "/quit                  leave (also Ctrl-D, or Ctrl-C at an empty prompt)"
        case .exit: ""
        }
    }
}

extension ChatSession {
    /// Runs a command line; false to leave.
    func run(command line: String) async -> Bool {
        let word = String(line.prefix { $0 != " " && $0 != "\n" })
        let argument = line.dropFirst(word.count).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let command = ChatCommand(rawValue: String(word.dropFirst())) else {
            complain("unknown command \(word): /help lists them (start a message with // to send one that begins with /)")
            return true
        }
        do {
            switch command {
            case .quit, .exit: return false
            case .help: help()
            case .new: startNew()
            case .list: try await list(argument)
            case .open: try await open(argument)
            case .search: try await search(argument)
            case .model: try await chooseModel(argument)
            case .system: try await setSystem(argument)
            case .retry: try await retry()
            case .edit: try await edit()
            case .copy: try await copy(argument)
            case .export: try await export(argument)
            }
        } catch {
            complain("\(error)")
        }
        return true
    }

    private func help() {
        for command in ChatCommand.allCases where !command.usage.isEmpty { note(command.usage) }
        note("Keys: Enter sends · Alt-Enter, a paste or \"\"\" for more lines · Ctrl-X Ctrl-E edits in $EDITOR · ↑/↓ and Ctrl-R: earlier messages · Ctrl-C stops an answer")
    }

    private func startNew() {
        conversation = nil
        note("New conversation: it starts with your next message (\(currentModel ?? "the server's model")).")
    }

    private func list(_ argument: String) async throws {
        let limit = argument.isEmpty ? 20 : Int(argument) ?? -1
        guard (1...200).contains(limit) else { throw ClientFailure("/list takes a number from 1 to 200") }
        let found = try await remote.conversations(limit: limit)
        guard !found.isEmpty else { return note("No conversations yet.") }
        listed = found.map(\.id)
        for (number, item) in found.enumerated() {
            let mark = item.id == conversation?.id ? "*" : " "
            let count = item.messageCount.map { " · \($0) messages" } ?? ""
            note("\(mark)\(String(number + 1).leftPadded(3))  \(item.title)\(count) · \(item.updatedAt.prefix(16).replacing("T", with: " "))")
        }
    }

    /// Continues a conversation: `N` from the last list, an id, or `latest`; shows its last messages.
    func open(_ argument: String) async throws {
        let id: String
        if argument == "latest" {
            guard let newest = try await remote.conversations(limit: 1).first else {
                throw ClientFailure("there is no conversation to continue yet")
            }
            id = newest.id
        } else if let number = Int(argument) {
            guard (1...listed.count).contains(number) else {
                throw ClientFailure(listed.isEmpty ? "/list or /search first, then /open a number they show" : "/open takes a number from 1 to \(listed.count)")
            }
            id = listed[number - 1]
        } else if !argument.isEmpty {
            id = argument
        } else {
            throw ClientFailure("/open takes a number from /list or /search, or a conversation's id")
        }
        let opened = try await remote.conversation(id)
        let messages = try await remote.messages(of: opened.id)
        conversation = opened
        note("── \(opened.title) · \(opened.model ?? currentModel ?? "")")
        let shown = messages.suffix(6)
        if messages.count > shown.count {
            note("(\(messages.count - shown.count) earlier messages; /export md FILE saves them all)")
        }
        for message in shown {
            show(message)
        }
    }

    private func show(_ message: RemoteMessage) {
        if message.role == "user" {
            let text = TerminalText.safe(message.content).replacing("\n", with: "\n  ")
            TerminalMode.send(styled ? "\u{1B}[1;36m›\u{1B}[0m \u{1B}[1m\(text)\u{1B}[0m\n" : "› \(text)\n")
        } else {
            let printer = AnswerPrinter(styled: styled)
            printer.print(message.content)
            printer.finish()
            if message.status != "complete" { note("(\(message.status == "cancelled" ? "stopped" : message.status))") }
        }
    }

    private func search(_ words: String) async throws {
        guard !words.isEmpty else { throw ClientFailure("/search takes the words to look for") }
        let results = try await remote.search(words)
        var ids: [String] = []
        var lines: [String] = []
        for hit in results.conversations where !ids.contains(hit.conversation.id) {
            ids.append(hit.conversation.id)
            lines.append(highlight(hit.conversation.title, results.query))
        }
        for hit in results.messages where !ids.contains(hit.conversationId) {
            ids.append(hit.conversationId)
            let snippet = hit.snippet.replacing("\n", with: " ")
            lines.append("\(highlight(hit.conversationTitle, results.query)) — \(hit.role): \(highlight(snippet, results.query))")
        }
        guard !ids.isEmpty else { return note("Nothing found for \"\(words)\".") }
        listed = ids
        for (number, line) in lines.enumerated() {
            TerminalMode.send("\(String(number + 1).leftPadded(3))  \(line)\n")
        }
        note("/open N continues one of them.")
    }

    /// `text` made safe, with `words` in bold when formatted.
    private func highlight(_ text: String, _ words: [String]) -> String {
        var safe = TerminalText.safe(text)
        guard styled else { return safe }
        for word in words where !word.isEmpty {
            safe = safe.replacing(try! Regex("(?i)" + NSRegularExpression.escapedPattern(for: word))) { "\u{1B}[1m\($0.output[0].substring ?? "")\u{1B}[22m" }
        }
        return safe
    }

    private func chooseModel(_ name: String) async throws {
        let (fresh, serverDefault) = try await remote.models()
        models = fresh
        defaultModel = serverDefault
        guard !name.isEmpty else {
            for item in models { note("\(item.id == currentModel ? "*" : " ") \(item.id)") }
            return
        }
        guard models.contains(where: { $0.id == name }) else {
            throw ClientFailure("the server has no model '\(name)'; /model lists them")
        }
        model = name
        if let conversation { try await remote.setModel(name, of: conversation.id) }
        note("Model: \(name)")
    }

    private func setSystem(_ text: String) async throws {
        guard !text.isEmpty else {
            return note("System prompt: \(conversation?.systemPrompt ?? system ?? "(none)")")
        }
        if let conversation {
            try await remote.setSystemPrompt(text, of: conversation.id)
            self.conversation = try await remote.conversation(conversation.id)
        } else {
            system = text
        }
        note("System prompt set.")
    }

    /// The last message the user sent in this conversation.
    private func lastUserMessage() async throws -> RemoteMessage {
        guard let conversation else { throw ClientFailure("no message yet in this conversation") }
        guard let last = try await remote.messages(of: conversation.id).last(where: { $0.role == "user" }) else {
            throw ClientFailure("no message yet in this conversation")
        }
        return last
    }

    private func retry() async throws {
        let last = try await lastUserMessage()
        await send(last.content, replacing: last.id)
    }

    private func edit() async throws {
        let last = try await lastUserMessage()
        editing = (last.content, last.id)
        note("Edit your message; Enter sends it and replaces what followed it.")
    }

    private func copy(_ argument: String) async throws {
        guard argument.isEmpty || argument == "code" else { throw ClientFailure("/copy takes nothing, or `code`") }
        guard isatty(STDOUT_FILENO) == 1 else { throw ClientFailure("/copy needs a terminal") }
        guard let conversation,
              let answer = try await remote.messages(of: conversation.id).last(where: { $0.role == "assistant" }) else {
            throw ClientFailure("no answer to copy yet")
        }
        var text = answer.content
        if argument == "code" {
            guard let code = firstCodeBlock(in: text) else { throw ClientFailure("the last answer has no code block") }
            text = code
        }
        // OSC 52: the terminal (or tmux, or an SSH client's terminal) puts the text on the clipboard.
        TerminalMode.send("\u{1B}]52;c;\(Data(text.utf8).base64EncodedString())\u{07}")
        note("Copied \(text.count) characters (through the terminal's clipboard support).")
    }

    private func export(_ argument: String) async throws {
        let parts = argument.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2, ["md", "json"].contains(parts[0]) else { throw ClientFailure("/export md|json FILE") }
        guard let conversation else { throw ClientFailure("nothing to export yet") }
        let transcript = try await Transcript.load(conversation.id, from: remote)
        let text = parts[0] == "json" ? try jsonText(transcript) : transcript.markdown
        let path = (parts[1] as NSString).expandingTildeInPath
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw ClientFailure("cannot write \(path)")
        }
        note("Saved to \(path).")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        String(repeating: " ", count: max(0, width - count)) + self
    }
}
