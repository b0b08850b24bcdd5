import ArgumentParser
import Foundation
import ParleyClient

/// `parley chat`: an interactive conversation with a Parley server in the terminal. The conversation is stored
/// on the server like any other, so it continues in the web UI and back.
struct Chat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat in the terminal; conversations are the server's (the web UI lists them).",
        discussion: """
            Enter sends; Alt-Enter, a paste, or a message that starts with \"\"\" (until a line of \"\"\") make \
            more lines; Ctrl-X Ctrl-E edits the message in $EDITOR. ↑/↓ and Ctrl-R reach earlier messages (kept in \
            $XDG_STATE_HOME/parley/history, readable only by you). Ctrl-C stops an answer (the server keeps what \
            came, marked stopped); Ctrl-C at an empty prompt, Ctrl-D or /quit leaves. /help lists the commands. \
            Answers are formatted for the terminal; --raw, NO_COLOR or an output that is not a terminal prints \
            them as they come. With standard input not a terminal, each line is a message or a command, and the exit status is 1 if any \
            of them failed.
            """)

    @OptionGroup var choice: ConversationChoice
    @Flag(help: "Print answers as they come, without formatting.") var raw = false
    @Flag(name: .customLong("no-history"), help: "Keep no history file.") var noHistory = false
    @OptionGroup var connection: ClientOptions

    func run() async throws {
        try await withRemote(connection) { remote in
            let environment = ProcessInfo.processInfo.environment
            let session = try await ChatSession(
                remote: remote, model: choice.model, system: choice.system, knowledgeBases: choice.knowledgeBases,
                retrieval: choice.retrieval,
                history: History(file: noHistory ? nil : History.defaultFile(environment: environment)),
                styled: AnswerPrinter.styled(raw: raw))
            if choice.continues {
                try await session.open(choice.conversation ?? "latest")
                if let id = session.conversation?.id {
                    try await remote.setKnowledge(session.knowledgeBases, retrieval: session.retrieval, of: id)
                }
            }
            await session.run()
            // At a terminal the user saw each failure; a script reading the status must see it too.
            if !session.interactive && session.failed { throw ExitCode.failure }
        }
    }
}
