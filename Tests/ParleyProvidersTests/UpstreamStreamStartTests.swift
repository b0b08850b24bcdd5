@testable import ParleyProviders
import Synchronization
import Testing

/// An upstream stream's reader, and the call its watchdog guards, start on the caller's thread: the request is on
/// its way upstream before the stream is handed back, with no hand-off to another thread first.
@Suite struct UpstreamStreamStartTests {
    final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
        func set() { value.store(true, ordering: .sequentiallyConsistent) }
    }

    @Test func theReaderHasBegunWhenTheStreamIsMade() async throws {
        for _ in 0..<20 {
            let began = Flag()
            let stream = UpstreamStream { _ in
                began.set()
                try await Task.sleep(for: .seconds(60))
            }
            #expect(began.isSet)
            stream.cancel()
        }
    }

    @Test func theWatchedCallHasBegunBeforeItsFirstWait() async throws {
        for _ in 0..<20 {
            let began = Flag()
            let watchdog = StreamWatchdog(firstToken: .seconds(60), idle: .seconds(60))
            let stream = UpstreamStream { _ in
                try await watchdog.run {
                    began.set()
                    try await Task.sleep(for: .seconds(60))
                }
            }
            #expect(began.isSet)
            stream.cancel()
        }
    }
}
