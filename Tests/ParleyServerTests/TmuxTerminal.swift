import Foundation
import ParleyTestSupport
import Testing

/// A real terminal for a test to type into: a tmux session on a tmux server of its own (its own socket, so
/// nothing else is touched), running one command; the test sends keys and reads the screen. `stop()` kills only
/// this tmux server.
struct TmuxTerminal {
    let socket: String
    let directory: String
    let statusFile: String

    /// Starts `command` (run by `sh -c`, environment cleared to `environment`) in a `width`×`height` terminal.
    init(_ command: [String], environment: [String: String], directory: String, width: Int = 100, height: Int = 40) async throws {
        socket = directory + "/tmux-\(UUID().uuidString.prefix(8))"
        self.directory = directory
        let variables = environment.map { "\($0.key)=\($0.value)" }
        // The exit status goes to a file, and the shell then keeps the pane open: tmux may be slow to notice that
        // a pane's process ended, and may drop the last output of one that ends at once.
        statusFile = socket + ".status"
        let line = (["env", "-i", "TERM=xterm-256color"] + variables
                    + ["/bin/sh", "-c", "\"$@\"; echo $? > \(Self.quote(statusFile)); exec sleep 600", "sh"] + command)
            .map(Self.quote).joined(separator: " ")
        let configuration = socket + ".conf"
        try "set-option -g set-clipboard on\n".write(toFile: configuration, atomically: true, encoding: .utf8)
        let started = try await Shell.run(["tmux", "-S", socket, "-f", configuration, "new-session", "-d", "-x", String(width),
                                           "-y", String(height), "-s", "chat", line])
        try #require(started.status == 0, "tmux: \(started.output)")
    }

    @discardableResult
    func tmux(_ arguments: [String]) async throws -> String {
        let outcome = try await Shell.run(["tmux", "-S", socket] + arguments)
        try #require(outcome.status == 0, "tmux \(arguments): \(outcome.output)")
        return outcome.output
    }

    /// Types `text` as keys (literally).
    func type(_ text: String) async throws {
        try await tmux(["send-keys", "-t", "chat", "-l", text])
    }

    /// Presses keys by tmux's names: `Enter`, `C-c`, `C-d`, `M-Enter`, `Up`, `C-r`, …
    func press(_ keys: String...) async throws {
        try await tmux(["send-keys", "-t", "chat"] + keys)
    }

    /// Pastes `text` as a terminal does (bracketed, when the program asked for it).
    func paste(_ text: String) async throws {
        try await tmux(["set-buffer", "-b", "test", text])
        try await tmux(["paste-buffer", "-p", "-d", "-b", "test", "-t", "chat"])
    }

    /// The screen's text now (wrapped rows as they show); with `escapes`, with its colours and attributes.
    func screen(escapes: Bool = false) async throws -> String {
        try await tmux(["capture-pane", "-p", "-t", "chat"] + (escapes ? ["-e"] : []))
    }

    /// Waits until the screen satisfies `condition`; the screen then.
    @discardableResult
    func waitFor(_ what: String, within limit: Duration = .seconds(20), escapes: Bool = false,
                 _ condition: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + limit
        while true {
            let shown = try await screen(escapes: escapes)
            if condition(shown) { return shown }
            guard ContinuousClock.now < deadline else {
                Issue.record("waited for \(what); the screen shows:\n\(shown)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Waits until the screen shows `text`.
    @discardableResult
    func waitFor(_ text: String, within limit: Duration = .seconds(20)) async throws -> String {
        try await waitFor("'\(text)'", within: limit) { $0.contains(text) }
    }

    /// The command's exit status once it ended, else nil.
    func exitStatus() -> Int32? {
        guard let written = try? String(contentsOfFile: statusFile, encoding: .utf8) else { return nil }
        return Int32(written.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Waits up to `limit` for the command to end; its exit status (nil: still running).
    func waitForExit(within limit: Duration = .seconds(10)) async throws -> Int32? {
        let deadline = ContinuousClock.now + limit
        while exitStatus() == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        return exitStatus()
    }

    /// What the program put on the clipboard (OSC 52, which tmux keeps as a buffer).
    func clipboard() async throws -> String {
        try await tmux(["show-buffer"])
    }

    func stop() async {
        _ = try? await Shell.run(["tmux", "-S", socket, "kill-server"])
    }

    static func quote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
