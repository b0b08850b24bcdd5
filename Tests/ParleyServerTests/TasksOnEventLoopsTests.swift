import Foundation
import ParleyMockLLM
import ParleyTestSupport
import Testing

/// `parley serve --tasks-on-event-loops true` runs Swift's tasks on its event loops (``TasksOnEventLoops``); by
/// default they stay on Swift's pool. Checked on the real binary by where its CPU time goes, thread by thread (from
/// `/proc`), while it proxies `/v1` calls and streams a chat turn: with the setting the event loops' threads do the
/// work; without it Swift's pool threads do a large part of it. And everything still works either way, up to a
/// graceful stop.
@Suite struct TasksOnEventLoopsTests {
    /// CPU ticks of the event loops' threads (`NIO-…`) and of all the others but the main thread.
    static func ticks(of pid: Int32) -> (loops: Int, others: Int) {
        let folder = "/proc/\(pid)/task"
        var loops = 0
        var others = 0
        for thread in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where thread != "\(pid)" {
            guard let comm = try? String(contentsOfFile: "\(folder)/\(thread)/comm", encoding: .utf8),
                  let stat = try? String(contentsOfFile: "\(folder)/\(thread)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // After the name in parentheses: state is field 3, utime and stime fields 14 and 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else { continue }
            if comm.hasPrefix("NIO-") { loops += user + system } else { others += user + system }
        }
        return (loops, others)
    }

    /// Runs `parley serve` with `extra`, proxies `/v1` calls and streams a chat turn; the CPU ticks of the calls.
    static func serveAndMeasure(_ extra: [String]) async throws -> (loops: Int, others: Int, log: String) {
        let workspace = try BinaryWorkspace("tasks-on-loops")
        defer { workspace.remove() }
        let mock = try await BinaryWorkspace.mock(tokens: 5, tokenDelayMs: 0)
        defer { Task { try? await mock.stop() } }
        let log = workspace.directory + "/serve.log"
        let server = try await workspace.serve(upstream: mock, ["--log-level", "debug"] + extra,
                                               environment: ["PATH": "/usr/bin:/bin", "PARLEY_API_KEYS": "sk-loops"])
        defer { if server.process.isRunning { server.stop(signal: SIGKILL) } }
        let client = TestParley.Client(baseURL: "http://127.0.0.1:\(server.port)")
        defer { Task { try? await client.shutdown() } }
        let key = ["Authorization": "Bearer sk-loops"]
        let chat = #"{"model":"mock-1","messages":[{"role":"user","content":"hi"}]}"#
        let streamed = #"{"model":"mock-1","stream":true,"messages":[{"role":"user","content":"hi"}]}"#
        #expect(try await client.request(.POST, "/v1/chat/completions", body: chat, headers: key).status == 200)
        let before = ticks(of: server.process.processIdentifier)
        // Enough calls for a few hundred milliseconds of CPU: ticks are 10 ms.
        for index in 0..<800 {
            let reply = try await client.request(.POST, "/v1/chat/completions", body: index % 4 == 0 ? streamed : chat,
                                                 headers: key)
            try #require(reply.status == 200, "call \(index): \(reply.status) \(reply.body)")
        }
        let after = ticks(of: server.process.processIdentifier)

        try await client.setUpAdmin()
        let conversation = try await client.createConversation()
        let events = try await client.chat(conversation, "hello")
        #expect(events.last?.status == "complete")

        // A graceful stop: SIGTERM, and the process exits on its own.
        server.send(SIGTERM)
        #expect(await server.waitForExit(within: .seconds(20)), "parley serve stops on SIGTERM")
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return (after.loops - before.loops, after.others - before.others, text)
    }

    @Test func withTheSettingTheEventLoopsRunTheRequestsTasks() async throws {
        let measured = try await Self.serveAndMeasure(["--tasks-on-event-loops", "true"])
        #expect(measured.log.contains("Swift's tasks run on the event loops"))
        #expect(measured.loops > 10, "the calls took CPU time on the loops: \(measured)")
        #expect(measured.others * 5 < measured.loops,
                "threads other than the event loops did little of the work: \(measured)")
    }

    @Test func byDefaultSwiftsPoolRunsThem() async throws {
        let measured = try await Self.serveAndMeasure([])
        #expect(!measured.log.contains("Swift's tasks run on the event loops"))
        #expect(measured.others * 5 > measured.loops, "Swift's pool did a large part of the work: \(measured)")
    }
}
