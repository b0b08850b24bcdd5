/// The executor of the connection a request arrived on: its event loop, set by the server for the request's
/// handler (nil elsewhere). A task the request starts and that serves it — an upstream stream's reader, the
/// answer's generation job, a shared cache flight — prefers it (`Task(executorPreference: RequestExecutor.current)`),
/// so the whole exchange stays on one thread instead of crossing to Swift's cooperative pool and back on every
/// await. Long CPU work never runs there: it has threads of its own (documents, password hashing, embeddings,
/// vector index builds).
public enum RequestExecutor {
    @TaskLocal public static var current: (any TaskExecutor)?
}
