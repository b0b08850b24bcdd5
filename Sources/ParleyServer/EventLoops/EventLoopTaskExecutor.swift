import NIOCore

/// A task executor (SE-0417) that runs jobs on one NIO event loop.
///
/// A connection's handler runs with this executor as its task's preference (``LoopBoundChannel``), so the request's
/// code, the default actors it calls, the upstream call's continuation (AsyncHTTPClient shares the server's event
/// loops and picks the current one) and the response's writes stay on the thread that reads the socket: no hop to
/// Swift's cooperative pool and back for every await. Work that may take long runs elsewhere on purpose: password
/// hashing and embeddings on their own threads, documents on `OffPool`, SQLite on GRDB's queues, generations in
/// tasks of their own.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
