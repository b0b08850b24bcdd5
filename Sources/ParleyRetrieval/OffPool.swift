import Dispatch
import NIOCore
import NIOPosix
import ParleyCore

/// CPU-heavy work (reading documents, chunking, scanning vectors) on threads of its own: not Swift's cooperative
/// pool, whose few threads run every request's tasks, and not an event loop.
package enum OffPool {
    /// Who waits for the work, which sets its priority.
    package enum Work {
        /// Ingestion's reading and chunking, which nobody waits on: threads at a lower scheduling priority
        /// (``BackgroundPriority``), so a large upload takes cores only when requests leave them idle.
        case background
        /// A search, an attachment or a document's text that a request waits on.
        case interactive
    }

    /// Not a dispatch queue: libdispatch's worker threads are shared by every queue, so a nice value set by one job
    /// would stay with the next, and an unprivileged process cannot raise it back. Ingestion gets threads of its
    /// own, one per core, started with the first document.
    private static let background: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(1, System.coreCount))
        pool.start()
        return pool
    }()

    private static let interactive = DispatchQueue(label: "parley.interactive", qos: .userInitiated, attributes: .concurrent)

    package static func run<T: Sendable>(_ work: Work, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        switch work {
        case .background:
            return try await background.runIfActive {
                BackgroundPriority.lowerCallingThread()
                return try body()
            }
        case .interactive:
            return try await withCheckedThrowingContinuation { continuation in
                interactive.async { continuation.resume(with: Result(catching: body)) }
            }
        }
    }
}
