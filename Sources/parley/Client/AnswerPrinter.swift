import Foundation
import ParleyClient
import Synchronization

/// Prints an answer as it streams: rendered Markdown for a terminal, else the text as it comes (made safe when
/// the output is a terminal).
final class AnswerPrinter: Sendable {
    private struct State {
        var markdown = MarkdownStream()
        var endsWithNewline = true
    }
    private let state = Mutex(State())
    let styled: Bool
    let toTerminal = isatty(STDOUT_FILENO) == 1

    init(styled: Bool) {
        self.styled = styled
    }

    func print(_ text: String) {
        guard !text.isEmpty else { return }
        let output = state.withLock { state in
            state.endsWithNewline = text.hasSuffix("\n")
            return styled ? state.markdown.feed(text, width: TerminalMode.width) : toTerminal ? TerminalText.safe(text) : text
        }
        TerminalMode.send(output)
    }

    func finish() {
        let output = state.withLock { state in
            defer { state.endsWithNewline = true }
            return styled ? state.markdown.finish(width: TerminalMode.width) : state.endsWithNewline ? "" : "\n"
        }
        TerminalMode.send(output)
    }
}

extension AnswerPrinter {
    /// Whether answers are formatted: standard output is a terminal, `--raw` was not given and `NO_COLOR` is not set.
    static func styled(raw: Bool) -> Bool {
        !raw && isatty(STDOUT_FILENO) == 1 && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
    }
}
