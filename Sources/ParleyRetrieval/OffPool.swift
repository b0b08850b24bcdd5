import Dispatch

/// CPU-heavy work (reading documents, chunking, scanning vectors) on threads of its own: not Swift's cooperative
/// pool, whose few threads run every request's tasks, and not an event loop.
enum OffPool {
    /// What the work is for, which sets its priority: a search someone is waiting on goes before ingestion.
    enum Work {
        case documents, search
    }

    private static let documents = DispatchQueue(label: "parley.documents", qos: .utility, attributes: .concurrent)
    private static let searches = DispatchQueue(label: "parley.search", qos: .userInitiated, attributes: .concurrent)

    static func run<T: Sendable>(_ work: Work = .documents, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            (work == .search ? searches : documents).async { continuation.resume(with: Result(catching: body)) }
        }
    }
}
