import ParleyMockLLM
import ParleyTestSupport
import Testing

/// Child processes the tests start (daemons, browsers, Python clients) must not hold this process's sockets.
@Suite struct ShellTests {
    @Test func childrenInheritOnlyStandardDescriptors() async throws {
        try await TestParley.with { parley in
            // Servers and a client connection are open in this process now.
            #expect(try await parley.request(.GET, "/health/live").status == 200)
            let outcome = try await Shell.run(["sh", "-c", "ls /proc/$$/fd"])
            let descriptors = outcome.output.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }.sorted()
            #expect(outcome.status == 0 && descriptors == [0, 1, 2], "the child had \(descriptors) open")
        }
    }
}
