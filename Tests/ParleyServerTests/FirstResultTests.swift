import Testing
@testable import ParleyServer

/// `OpenAIStreaming.result(of:within:)` decides whether a `/v1` stream opens with its real headers or with
/// keep-alives: an answer that is ready must never be reported as "not yet".
@Suite struct FirstResultTests {
    @Test func aFinishedTaskIsNeverReportedAsNotYet() async {
        // The timer used to be cancelled before the result was handed over; its cancelled sleep then
        // reported "not yet" first, now and then (a cache hit lost its x-parley-cache header).
        var notYet = 0
        for _ in 0..<2_000 {
            let task = Task<Int, any Error> { 42 }
            if await OpenAIStreaming.result(of: task, within: .seconds(30)) == nil { notYet += 1 }
        }
        #expect(notYet == 0)
    }

    @Test func aTaskStillRunningIsNotYetWhenTheWaitRunsOut() async {
        let task = Task<Int, any Error> {
            try await Task.sleep(for: .seconds(30))
            return 1
        }
        defer { task.cancel() }
        #expect(await OpenAIStreaming.result(of: task, within: .milliseconds(20)) == nil)
    }
}
