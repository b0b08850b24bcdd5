import Logging
import ParleyServer
import Synchronization
import Testing

/// The text log's handler formats a logger's metadata only for a line it writes, never when the metadata is set.
@Suite struct DeferredMetadataLogHandlerTests {
    final class Capture: TextOutputStream, Sendable {
        let text = Mutex("")
        func write(_ string: String) { text.withLock { $0 += string } }
    }

    /// Counts how often it is turned into text.
    final class Counted: CustomStringConvertible, Sendable {
        let count = Atomic(0)
        var description: String {
            count.add(1, ordering: .relaxed)
            return "counted"
        }
    }

    @Test func metadataIsFormattedOnlyForLinesThatAreWritten() {
        let capture = Capture()
        var logger = Logger(label: "test") { label in
            DeferredMetadataLogHandler(StreamLogHandler(label: label, stream: capture, metadataProvider: nil))
        }
        logger.logLevel = .warning
        let counted = Counted()
        logger[metadataKey: "request_id"] = .stringConvertible(counted)
        logger[metadataKey: "b"] = "2"
        logger.info("not written")
        #expect(counted.count.load(ordering: .relaxed) == 0, "setting metadata and a line below the level format nothing")
        #expect(capture.text.withLock { $0 }.isEmpty)

        logger.warning("written", metadata: ["c": "3", "b": "line's own"])
        let line = capture.text.withLock { $0 }
        #expect(line.contains("b=line's own c=3 request_id=counted") && line.contains("warning test:") && line.hasSuffix("written\n"), "\(line)")
        #expect(counted.count.load(ordering: .relaxed) == 1)
        #expect(logger[metadataKey: "b"] == "2", "the logger's metadata is its own")
    }
}
