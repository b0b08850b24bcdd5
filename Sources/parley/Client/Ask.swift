import ArgumentParser
import Foundation
import ParleyClient
import Synchronization
import UnixSignals

/// `parley ask`: one question to a Parley server, the answer streamed to standard output — nothing else goes
/// there. The conversation is stored on the server like any other (the web UI lists it). On a terminal the answer's
/// Markdown is formatted; into a pipe, or with `--raw` or `NO_COLOR`, it is printed as it comes.
struct Ask: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Ask one question; the answer streams to standard output.",
        discussion: """
            Text piped in is asked with the words: `git diff | parley ask "review this"` sends the words, a blank \
            line, then the diff. Each question starts a new conversation unless -c or --cid continues one. A \
            broken stream is picked up again where it stopped. Ctrl-C stops the answer on the server (it keeps \
            what came, marked stopped); a second Ctrl-C leaves at once. Exit status 1, with the reason on standard \
            error, when anything fails, including an answer that was stopped, interrupted or failed (its text so \
            far is still printed). On a terminal the answer's Markdown is formatted (bold, headings, lists, code \
            blocks); into a pipe, with --raw or with NO_COLOR set, it is printed exactly as it comes.
            """)

    @Argument(help: "The question.") var words: [String] = []
    @OptionGroup var choice: ConversationChoice
    @Flag(name: .customLong("no-stream"), help: "Print the answer once it is complete.") var noStream = false
    @Flag(help: "Print the finished answer as JSON (the message as the API returns it).") var json = false
    @Flag(name: [.customShort("x"), .customLong("extract")], help: "Print only the answer's first fenced code block.")
    var extract = false
    @Flag(help: "Print the answer as it comes, without formatting (the default when standard output is not a terminal).")
    var raw = false
    @OptionGroup var connection: ClientOptions

    func validate() throws {
        if json && extract { throw ValidationError("give --json or -x, not both") }
    }

    func run() async throws {
        let question = [words.joined(separator: " "), pipedInput() ?? ""].filter { !$0.isEmpty }.joined(separator: "\n\n")
        guard !question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            fail("nothing to ask: give the question as words, or pipe text in")
        }
        try await withRemote(connection) { remote in
            let conversation = try await chooseConversation(remote)
            if noStream || json || extract {
                let turn = try await remote.ask(question, in: conversation, model: choice.model)
                try finish(turn.assistant)
            } else {
                let printer = AnswerPrinter(styled: AnswerPrinter.styled(raw: raw))
                let answer = AnswerBeingStreamed()
                // Ctrl-C is trapped before the question goes out, so that it never kills the client half-way.
                let signals = await UnixSignalsSequence(trapping: .sigint)
                let interrupts = Task { await answer.stopOnInterrupt(remote, signals: signals) }
                defer { interrupts.cancel() }
                do {
                    let message = try await remote.streamAnswer(question, in: conversation, model: choice.model) { event in
                        switch event {
                        case .started(let id):
                            answer.started(id)
                        case .text(let text):
                            printer.print(text)
                        }
                    }
                    printer.finish()
                    Self.showSources(of: message)
                } catch let unfinished as UnfinishedAnswer {
                    printer.finish()
                    throw unfinished
                }
            }
        }
    }

    private func chooseConversation(_ remote: RemoteParley) async throws -> String {
        if choice.continues {
            let id: String
            if let conversation = choice.conversation {
                id = try await remote.conversation(conversation).id
            } else {
                guard let newest = try await remote.conversations(limit: 1).first else {
                    throw ClientFailure("there is no conversation to continue yet")
                }
                id = newest.id
            }
            if let system = choice.system { try await remote.setSystemPrompt(system, of: id) }
            try await remote.setKnowledge(try await remote.knowledgeBaseIDs(named: choice.knowledgeBases),
                                          retrieval: choice.retrieval, of: id)
            return id
        }
        let bases = try await remote.knowledgeBaseIDs(named: choice.knowledgeBases)
        return try await remote.createConversation(model: choice.model, systemPrompt: choice.system, knowledgeBaseIDs: bases,
                                                   retrieval: choice.retrieval).id
    }

    private func finish(_ message: RemoteMessage) throws {
        if json { emit(try jsonText(message)) }
        guard message.status == "complete" else {
            if !json && !extract {
                let printer = AnswerPrinter(styled: AnswerPrinter.styled(raw: raw))
                printer.print(message.content)
                printer.finish()
            }
            let reason = message.error.map { ": \($0)" } ?? ""
            throw ClientFailure("the answer \(message.status == "error" ? "failed" : "was " + message.status)\(reason)")
        }
        if extract {
            guard let code = firstCodeBlock(in: message.content) else { throw ClientFailure("the answer has no fenced code block") }
            emit(code.isEmpty || code.hasSuffix("\n") ? code : code + "\n")
        } else if !json {
            let printer = AnswerPrinter(styled: AnswerPrinter.styled(raw: raw))
            printer.print(message.content)
            printer.finish()
            Self.showSources(of: message)
        }
    }

    /// The sources a grounded answer cites, one per line on standard error (standard output keeps the answer alone).
    static func showSources(of message: RemoteMessage) {
        guard let sources = message.sources, !sources.isEmpty else { return }
        let cited = message.citations ?? []
        let shown = cited.isEmpty ? sources : cited.compactMap { number in sources.first { $0.n == number } }
        let lines = shown.map { "[\($0.n)] \($0.place)" }
        FileHandle.standardError.write(Data(("Sources:\n" + lines.joined(separator: "\n") + "\n").utf8))
    }
}

/// The answer `parley ask` streams, for Ctrl-C: the first stops it on the server (the stream then ends with the
/// text so far, marked stopped), a second — or one before the answer exists — leaves at once (status 130).
final class AnswerBeingStreamed: Sendable {
    private let state = Mutex<(id: String?, interrupted: Bool)>((nil, false))

    func started(_ id: String) {
        state.withLock { $0.id = id }
    }

    func stopOnInterrupt(_ remote: RemoteParley, signals: UnixSignalsSequence) async {
        for await _ in signals {
            let (id, again) = state.withLock { state in
                defer { state.interrupted = true }
                return (state.id, state.interrupted)
            }
            guard let id, !again else { Foundation.exit(130) }
            FileHandle.standardError.write(Data("\nparley: stopping the answer (Ctrl-C again to leave at once)\n".utf8))
            do {
                try await remote.stop(message: id)
            } catch where !Task.isCancelled {
                fail("could not stop the answer: \(error)")
            } catch {
                return  // The stream ended meanwhile (stopped): the command is finishing.
            }
        }
    }
}
