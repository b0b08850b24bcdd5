import CParleyGlobalJobs
import NIOCore
import NIOPosix

/// Runs Swift's tasks on the server's event loops instead of Swift's cooperative pool.
///
/// Without it a request crosses threads on most awaits: the event loop reads it, a pool thread runs the handler,
/// the upstream's bytes arrive on a loop and the handler resumes on the pool again, each crossing a wake-up and a
/// context switch. With it every job Swift would give its global executor goes to an event loop of
/// `MultiThreadedEventLoopGroup.singleton` (the one the server and the upstream client use), the current one when
/// the job is enqueued from a loop, so a request's handler, its upstream call and its response stay on one thread.
/// This is swift-nio's `unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`, set from C so it
/// also works in the release build that links the Swift runtime statically.
///
/// Off by default (`tasks_on_event_loops`): measured side by side it answers one client at a time faster and fewer
/// context switches per call, but 64 clients at once a little slower (bench/RESULTS.md, "Swift's tasks on the event
/// loops").
///
/// What it asks of the code: nothing that blocks may run in a task. Parley already keeps such work on threads of its
/// own (SQLite on GRDB's queues, password hashing, embeddings, documents and vector scans on their pools).
/// Jobs delayed by `Task.sleep` still start on the runtime's timer threads and move to a loop at their next await.
public enum TasksOnEventLoops {
    /// Routes Swift's global jobs to the event loops; false when another component already hooked the executor.
    /// Call once, before the server starts.
    public static func install() -> Bool {
        parley_route_global_jobs { job in
            let unowned = unsafeBitCast(job, to: UnownedJob.self)
            // `any()` is the current loop when called on one of the group's loops, the next one otherwise.
            MultiThreadedEventLoopGroup.singleton.any().enqueue(ExecutorJob(unowned))
        }
    }
}
