#if canImport(Glibc)
import Glibc
#endif

/// Background work (embedding documents, reading and chunking them) that must give way to requests: its threads
/// run at a lower scheduling priority, so when both want a core the kernel gives it to the request.
public enum BackgroundPriority {
    /// Gives the calling thread nice value 10: a tenth of a normal thread's share of a busy core (Linux's
    /// scheduler weighs nice 10 at 110 against 1024). Linux keeps the nice value per thread, so only this thread
    /// changes; elsewhere, or when refused, nothing does. Call it only on threads kept for background work: an
    /// unprivileged process cannot raise the value back.
    public static func lowerCallingThread() {
        #if os(Linux)
        // `who` 0 is the calling thread.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        #endif
    }
}
