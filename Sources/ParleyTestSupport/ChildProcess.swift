import Foundation

/// A server started as a child process (`parley serve`, `parley mock-llm`) that announces its port with a
/// "listening on http://127.0.0.1:PORT" line — for the crash tests and the benchmark.
public final class ChildProcess: Sendable {
    public let process: Process
    public let port: Int

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    public struct StartFailure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Starts `executable`, sending its output to `log`, and returns once it has printed its port.
    public static func start(_ executable: String, _ arguments: [String], log: String,
                             environment: [String: String]? = nil, timeout: Duration = .seconds(30))
        async throws -> ChildProcess
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while true {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: "listening on http://127.0.0.1:"),
               let port = Int(text[range.upperBound...].prefix { $0.isNumber }) {
                return ChildProcess(process: process, port: port)
            }
            guard process.isRunning, ContinuousClock.now < deadline else {
                if process.isRunning { process.terminate() }
                throw StartFailure(description: "\(executable) \(arguments.joined(separator: " ")) did not start:\n\(text)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Sends `signal` and waits for the process to end.
    public func stop(signal: Int32 = SIGINT) {
        // Once the process has ended its id may be another process's: stopping twice (a test's own stop, then its
        // `defer`) must not signal that one.
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    /// Sends `signal` without waiting.
    public func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits up to `limit` for the process to end; true when it has.
    public func waitForExit(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return !process.isRunning
    }

    /// CPU time used so far (user + system), in milliseconds, from /proc.
    public func cpuMilliseconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command name: state is field 3, utime 14 and stime 15 (1-based), in clock ticks of 10 ms.
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) * 10
    }

    /// Resident set size in KiB, from /proc.
    public func rssKB() -> Int { statusKB("VmRSS:") }

    /// The most resident memory the process has had so far, in KiB (the kernel's high-water mark).
    public func peakRSSKB() -> Int { statusKB("VmHWM:") }

    private func statusKB(_ field: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}
