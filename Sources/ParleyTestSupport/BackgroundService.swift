import ParleyMockLLM
import Logging
import ServiceLifecycle
import Synchronization

/// Runs a server in the background of the current process and reports the port it bound — for tests and
/// the benchmark, which start servers on port 0.
public final class BackgroundService: Sendable {
    public let port: Int
    /// The service that runs (tests read what it exposes, such as a server's routes).
    public let service: any Service
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(port: Int, service: any Service, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.service = service
        self.group = group
        self.task = task
    }

    /// Builds the service with a callback it must call with its bound port once listening, runs it, and
    /// returns when the port is known. Throws if the service fails before it listens.
    public static func start(
        logger: Logger = Logger(label: "parley.background"),
        _ make: @Sendable (_ onRunning: @escaping @Sendable (Int) async -> Void) async throws -> any Service
    ) async throws -> BackgroundService {
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let service = try await make { port in portSink.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
        let task = Task {
            defer { portSink.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            try await task.value
            throw StartFailure()
        }
        return BackgroundService(port: port, service: service, group: group, task: task)
    }

    /// Shuts the service down gracefully and waits for it.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    struct StartFailure: Error, CustomStringConvertible {
        var description: String { "the service stopped before it listened" }
    }
}

extension MockLLMServer {
    /// Starts the mock in the background (use port 0 in ``Options`` for a free port).
    public func start(logger: Logger = Logger(label: "parley.mock-llm")) async throws -> BackgroundService {
        try await BackgroundService.start(logger: logger) { onRunning in
            self.application(logger: logger, onRunning: onRunning)
        }
    }
}
