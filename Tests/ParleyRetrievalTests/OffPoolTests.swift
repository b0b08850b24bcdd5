#if canImport(Glibc)
import Glibc
#endif
@testable import ParleyRetrieval
import Testing

/// Ingestion's reading and chunking give way to requests: they run on threads whose nice value is raised, while
/// the work a request waits on keeps the process's own priority.
@Suite struct OffPoolTests {
    static func niceness() -> Int32 {
        errno = 0
        return getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    }

    @Test func backgroundWorkRunsAtALowerPriorityAndInteractiveWorkDoesNot() async throws {
        #if os(Linux)
        let own = Self.niceness()
        try #require(own < 10, "the tests already run at nice \(own)")
        let background = try await OffPool.run(.background) { Self.niceness() }
        #expect(background == 10)
        let interactive = try await OffPool.run(.interactive) { Self.niceness() }
        // Never lowered (libdispatch may raise a user-initiated queue's threads, where it is allowed to).
        #expect(interactive <= own)
        // Many at once, more than there are threads: all of them on lowered threads, and the caller's thread untouched.
        let all = try await withThrowingTaskGroup(of: Int32.self) { group in
            for _ in 0..<32 { group.addTask { try await OffPool.run(.background) { Self.niceness() } } }
            return try await group.reduce(into: [Int32]()) { $0.append($1) }
        }
        #expect(all.count == 32 && all.allSatisfy { $0 == 10 })
        #expect(Self.niceness() == own)
        let failure = await #expect(throws: ExtractionError.self) {
            try await OffPool.run(.background) { () throws -> Int in throw ExtractionError("unreadable") }
        }
        #expect(failure?.description == "unreadable")
        #endif
    }
}
