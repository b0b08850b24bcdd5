#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CoreMetrics
import Foundation
import ParleyCore
import Synchronization

/// The process's own figures, read from `/proc/self` when `/metrics` is read (Linux; elsewhere nothing):
/// resident and virtual memory, CPU seconds, open and allowed descriptors, start time — Prometheus's standard
/// `process_*` names, which its dashboards expect.
final class ProcessMetrics: Sendable {
    private let cpuReported = Mutex(0.0)
    private let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    private let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))

    func sample() {
        #if os(Linux)
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return }
        // Fields after the command's closing parenthesis, from field 3 (state).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        func field(_ number: Int) -> Double? { fields.count > number - 3 ? Double(fields[number - 3]) : nil }
        if let user = field(14), let system = field(15), ticksPerSecond > 0 {
            let total = (user + system) / ticksPerSecond
            let delta = cpuReported.withLock { reported in
                defer { reported = max(reported, total) }
                return total - reported
            }
            if delta > 0 { FloatingPointCounter(label: MetricName.cpuSeconds).increment(by: delta) }
        }
        if let virtual = field(23) { Gauge(label: MetricName.virtualMemory).record(virtual) }
        if let pages = field(24) { Gauge(label: MetricName.residentMemory).record(pages * pageSize) }
        if let started = field(22), let boot = Self.bootTime(), ticksPerSecond > 0 {
            Gauge(label: MetricName.startTime).record(boot + started / ticksPerSecond)
        }
        if let open = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            Gauge(label: MetricName.openDescriptors).record(open.count)
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            Gauge(label: MetricName.maxDescriptors).record(Double(limit.rlim_cur))
        }
        #endif
    }

    /// When the machine booted, in seconds since 1970 (`btime` in `/proc/stat`).
    private static func bootTime() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6))
        }
        return nil
    }
}
