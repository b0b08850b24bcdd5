import Dispatch

/// CPU-heavy work (reading documents, chunking) on threads of its own: not Swift's cooperative pool, whose few
/// threads run every request's tasks, and not an event loop.
enum OffPool {
    private static let queue = DispatchQueue(label: "parley.documents", qos: .utility, attributes: .concurrent)

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result(catching: body)) }
        }
    }
}
