import Foundation

/// Runs a command to completion for tests and the benchmark (Python clients, load generators), off the
/// threads that run Swift tasks.
public enum Shell {
    /// The command's exit status and combined output.
    public struct Outcome: Sendable {
        public var status: Int32
        public var output: String
    }

    public static func run(_ arguments: [String]) async throws -> Outcome {
        try await offThread {
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("parley-shell-\(UUID().uuidString).log").path
            defer { try? FileManager.default.removeItem(atPath: log) }
            let command = arguments.map(quote).joined(separator: " ")
            let status = Spawn.shell(command + " > \(quote(log)) 2>&1 < /dev/null")
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return Outcome(status: status == 0 ? 0 : (status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)),
                           output: output)
        }
    }

    /// True when `python3 -c "import MODULE"` works.
    public static func pythonHas(_ module: String) async -> Bool {
        (try? await run(["python3", "-c", "import \(module)"]))?.status == 0
    }

    static func quote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
