import Foundation

/// The terminal `parley chat` runs in: raw mode while it runs (keys arrive one by one, nothing is echoed, Ctrl-C
/// is a key rather than a signal, output still turns `\n` into a new line), bracketed paste on, and both undone
/// however the program ends.
enum TerminalMode {
    /// The settings found at start, put back at exit. Written once, before raw mode starts, read at exit.
    nonisolated(unsafe) private static var saved: termios?

    static var isInteractive: Bool { isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 }

    /// The terminal's width in columns (80 when it cannot be asked), asked anew each time so that a resized
    /// window shapes what is printed next.
    static var width: Int {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    static func enterRaw() {
        var settings = termios()
        guard tcgetattr(STDIN_FILENO, &settings) == 0 else { return }
        if saved == nil {
            saved = settings
            atexit { TerminalMode.restore() }
        }
        settings.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
        settings.c_iflag &= ~tcflag_t(IXON | ICRNL | BRKINT | INPCK | ISTRIP)
        withUnsafeMutableBytes(of: &settings.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        tcsetattr(STDIN_FILENO, TCSADRAIN, &settings)
        send("\u{1B}[?2004h")
    }

    /// Back to the settings found at start (for `$EDITOR`, Ctrl-Z and exit).
    static func restore() {
        guard var settings = saved else { return }
        send("\u{1B}[?2004l")
        tcsetattr(STDIN_FILENO, TCSADRAIN, &settings)
    }

    static func send(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }
}
