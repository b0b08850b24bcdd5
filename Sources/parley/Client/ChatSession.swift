import Foundation
import ParleyClient
import ParleyCore
import Synchronization

/// One `parley chat`: reads messages at the prompt, streams the answers, runs the `/commands`.
final class ChatSession {
    let remote: RemoteParley
    let input = KeyboardInput()
    /// Standard input is a terminal: raw mode, the prompt drawn, keys edited.
    let interactive: Bool
    /// Answers and notes formatted for the terminal.
    let styled: Bool
    var editor: LineEditor
    var view = LineEditorView()
    var models: [RemoteModel]
    var defaultModel: String?
    /// The conversation messages go to; nil until the first message (or /open).
    var conversation: RemoteConversation?
    /// The model chosen with -m or /model.
    var model: String?
    /// The system prompt for the next conversation started.
    var system: String?
    /// The knowledge bases (ids) new conversations answer from (--kb).
    let knowledgeBases: [String]
    /// How new conversations search them (--passages, --min-similarity, --no-rerank).
    let retrieval: RetrievalSettings
    /// The conversations the last /list or /search showed, for `/open N`.
    var listed: [String] = []
    /// /edit: the message to show at the next prompt, and the message it replaces.
    var editing: (text: String, replaces: String)?
    /// Something went wrong (an answer failed, a command was refused): a piped chat then exits with status 1.
    private(set) var failed = false

    init(remote: RemoteParley, model: String?, system: String?, knowledgeBases: [String] = [],
         retrieval: RetrievalSettings = RetrievalSettings(), history: History, styled: Bool) async throws {
        self.remote = remote
        self.knowledgeBases = try await remote.knowledgeBaseIDs(named: knowledgeBases)
        self.retrieval = retrieval
        let (models, defaultModel) = try await remote.models()
        self.models = models
        self.defaultModel = defaultModel
        if let model, !models.contains(where: { $0.id == model }) {
            throw ClientFailure("the server has no model '\(model)' (`parley models` lists them)")
        }
        self.model = model
        self.system = system
        self.interactive = isatty(STDIN_FILENO) == 1
        self.styled = styled
        self.editor = LineEditor(history: history, commands: ChatCommand.allCases.map(\.name))
    }

    // MARK: The loop

    func run() async {
        if interactive { TerminalMode.enterRaw() }
        input.start()
        if interactive {
            note("Parley at \(remote.settings.url) · \(currentModel ?? "no model") · /help for commands, Ctrl-D to leave")
        }
        while let line = await readMessage() {
            let message = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !message.isEmpty else { continue }
            if message.hasPrefix("/") && !message.hasPrefix("//") {
                editing = nil
                guard await run(command: message) else { break }
                continue
            }
            let replaces = editing?.replaces
            editing = nil
            await send(message.hasPrefix("//") ? String(line.drop { $0 == " " }.dropFirst()) : line, replacing: replaces)
        }
        if interactive { TerminalMode.restore() }
    }

    var currentModel: String? { model ?? conversation?.model ?? defaultModel }

    /// The next message typed (nil: leave).
    private func readMessage() async -> String? {
        editor.reset(to: editing?.text ?? "")
        draw()
        while let key = await input.next() {
            switch editor.handle(key) {
            case nil:
                draw()
            case .submit(let message):
                if interactive {
                    editor.reset(to: message)
                    draw()
                    TerminalMode.send(view.finish())
                }
                editor.remember(message)
                return message
            case .leave:
                if interactive { TerminalMode.send(view.finish()) }
                return nil
            case .openEditor:
                let edited = await editInEditor(String(editor.text))
                editor.reset(to: edited)
                view.forget()
                draw()
            case .clearScreen:
                TerminalMode.send("\u{1B}[H\u{1B}[2J")
                view.forget()
                draw()
            case .suspend:
                TerminalMode.send(view.finish())
                TerminalMode.restore()
                kill(getpid(), SIGTSTP)
                TerminalMode.enterRaw()
                draw()
            }
        }
        if interactive { TerminalMode.send(view.finish()) }
        return nil
    }

    private func draw() {
        guard interactive else { return }
        let display = editor.display
        let prompt = display.prompt ?? "› "
        let shown = display.prompt.map { styled ? "\u{1B}[2m\($0)\u{1B}[0m" : $0 } ?? (styled ? "\u{1B}[1;36m›\u{1B}[0m " : "› ")
        TerminalMode.send(view.draw(prompt: shown, promptColumns: TerminalText.columns(of: prompt),
                                    continuation: styled ? "\u{1B}[2m·\u{1B}[0m " : "· ",
                                    text: display.text, cursor: display.cursor, width: TerminalMode.width))
    }

    /// `text` opened in `$VISUAL`/`$EDITOR` (vi when neither is set); what the file holds when the editor exits.
    private func editInEditor(_ text: String) async -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("parley-message-\(UUID().uuidString).md").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        guard FileManager.default.createFile(atPath: file, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            return text
        }
        let environment = ProcessInfo.processInfo.environment
        let editorCommand = [environment["VISUAL"], environment["EDITOR"]].compactMap { $0 }.first { !$0.isEmpty } ?? "vi"
        TerminalMode.send(view.finish())
        return await input.paused {
            TerminalMode.restore()
            defer { TerminalMode.enterRaw() }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", editorCommand + " \"$1\"", "sh", file]
            let ended = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                process.terminationHandler = { _ in continuation.resume(returning: true) }
                do { try process.run() } catch { continuation.resume(returning: false) }
            }
            guard ended, process.terminationStatus == 0, let data = FileManager.default.contents(atPath: file) else {
                complain("the editor (\(editorCommand)) did not finish cleanly; the message is as it was")
                return text
            }
            var edited = String(decoding: data, as: UTF8.self)
            while edited.hasSuffix("\n") { edited.removeLast() }
            return edited
        }
    }

    // MARK: Answers

    /// Posts `content` and streams the answer; Ctrl-C meanwhile stops it on the server.
    func send(_ content: String, replacing: String? = nil) async {
        let printer = AnswerPrinter(styled: styled)
        let stopper = AnswerStopper()
        var watcher: Task<Void, Never>?
        if interactive {
            let input = input
            let remote = remote
            watcher = Task { await stopper.stopOnControlC(input, remote) }
        }
        defer { watcher?.cancel() }
        do {
            let id = try await conversationForMessage()
            let message = try await remote.streamAnswer(content, in: id, model: model, replacing: replacing) { event in
                switch event {
                case .started(let id):
                    if stopper.started(id) { await AnswerStopper.stop(id, remote) }
                case .text(let text):
                    printer.print(text)
                }
            }
            printer.finish()
            if message.content.isEmpty { note("(the answer is empty)") }
            if let sources = message.sources, !sources.isEmpty {
                let cited = message.citations ?? []
                let shown = cited.isEmpty ? sources : cited.compactMap { number in sources.first { $0.n == number } }
                note("Sources: " + shown.map { "[\($0.n)] \($0.place)" }.joined(separator: "; "))
            }
        } catch let unfinished as UnfinishedAnswer {
            printer.finish()
            if unfinished.message.status == "cancelled" {
                note("(stopped; the server keeps what came)")
            } else {
                complain(unfinished.reason)
            }
        } catch {
            printer.finish()
            complain("\(error)")
        }
    }

    /// The conversation's id, created (with the model and system prompt chosen) before its first message.
    private func conversationForMessage() async throws -> String {
        if let conversation { return conversation.id }
        let created = try await remote.createConversation(model: model, systemPrompt: system, knowledgeBaseIDs: knowledgeBases,
                                                          retrieval: retrieval)
        conversation = created
        return created.id
    }

    // MARK: Output

    /// A line for the user about the chat itself (dim when formatted).
    func note(_ text: String) {
        let safe = TerminalText.safe(text)
        TerminalMode.send(styled ? "\u{1B}[2m\(safe)\u{1B}[0m\n" : safe + "\n")
    }

    /// A failure, on standard error; the chat goes on.
    func complain(_ text: String) {
        failed = true
        let safe = TerminalText.safe(text)
        FileHandle.standardError.write(Data((styled ? "\u{1B}[31mparley: \(safe)\u{1B}[0m\n" : "parley: \(safe)\n").utf8))
    }
}

/// Ctrl-C during an answer: the answer's id once it exists, and whether a stop was asked for before it did.
final class AnswerStopper: Sendable {
    private let state = Mutex<(id: String?, requested: Bool)>((nil, false))

    /// Records the answer's id; true when a stop was asked for already.
    func started(_ id: String) -> Bool {
        state.withLock { state in
            state.id = id
            return state.requested
        }
    }

    /// Records a stop; the id to stop, once the answer exists.
    func requestStop() -> String? {
        state.withLock { state in
            state.requested = true
            return state.id
        }
    }

    /// Stops the answer at each Ctrl-C, until the task is cancelled.
    func stopOnControlC(_ input: KeyboardInput, _ remote: RemoteParley) async {
        while true {
            guard await input.next(where: { $0 == .control("c") }) != nil else { return }
            if let id = requestStop() { await Self.stop(id, remote) }
        }
    }

    static func stop(_ id: String, _ remote: RemoteParley) async {
        do {
            try await remote.stop(message: id)
        } catch {
            // The answer may have ended meanwhile; the stream says how it ended.
        }
    }
}
