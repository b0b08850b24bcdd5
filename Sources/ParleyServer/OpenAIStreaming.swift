import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ParleyCore
import ParleyProviders
import Synchronization

/// Streams `/v1/chat/completions` answers as OpenAI does: `data: {chunk}` events and `data: [DONE]`.
///
/// The router retries until the first event of an answer arrives. Up to the keep-alive interval Parley waits
/// with the response unsent, so a failure still gets its proper status (429, 502, 504…) and the headers name
/// the deployment. A slower first token starts the event stream with keep-alive comments, so clients and
/// proxies do not give up; a failure then arrives as an error event. Chunks are written as the upstream sent
/// them, each batch (one network read) in one write. A stream that fails after it started ends with an
/// error event and no `[DONE]`, which the openai SDK raises as an `APIError`.
enum OpenAIStreaming {
    static let headers: HTTPFields = [
        .contentType: "text/event-stream",
        .cacheControl: "no-cache",
        HTTPField.Name("X-Accel-Buffering")!: "no",
    ]

    static func response(_ body: ChatCompletionBody, limits: AttemptLimits, router: ModelRouter, keepAlive: Duration,
                         logger: Logger) async throws -> Response {
        let opening = Task { try await router.routeStream(body, limits: limits) }
        switch await result(of: opening, within: keepAlive) {
        case .success(let routed)?:
            return Response(status: .ok, headers: OpenAIRoutes.routingHeaders(routed, headers), body: ResponseBody { writer in
                try await forward(routed.value, to: &writer)
            })
        case .failure(let error)?:
            throw clientError(error)
        case nil:
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                do {
                    while true {
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        switch await result(of: opening, within: keepAlive) {
                        case nil:
                            continue
                        case .success(let routed)?:
                            try await writer.write(ByteBuffer(string: ": parley deployment=\(routed.deployment.id) attempts=\(routed.attempts)\n\n"))
                            try await forward(routed.value, to: &writer)
                            return
                        case .failure(let error)?:
                            try await writer.write(ByteBuffer(string: "data: \(clientError(error).json)\n\n"))
                            try await writer.finish(nil)
                            return
                        }
                    }
                } catch {
                    // The client went away while the router was still trying.
                    opening.cancel()
                    throw error
                }
            })
        }
    }

    /// Writes the answer's chunks; ends with `[DONE]`, or with an error event if the upstream fails.
    static func forward(_ opened: OpenedStream, to writer: inout any ResponseBodyWriter) async throws {
        let stream = opened.stream
        defer { stream.cancel() }
        var buffer = ByteBuffer()
        append(opened.first, to: &buffer)
        while true {
            if buffer.readableBytes > 0 {
                try await writer.write(buffer)
                buffer.clear()
            }
            let batch: [ByteBuffer]?
            do {
                batch = try await stream.next()
            } catch {
                if error is CancellationError { throw error }
                buffer.writeString("data: \(OpenAIError.from(upstream: error).json)\n\n")
                try await writer.write(buffer)
                try await writer.finish(nil)
                return
            }
            guard let batch else { break }
            append(batch, to: &buffer)
        }
        buffer.writeString("data: [DONE]\n\n")
        try await writer.write(buffer)
        try await writer.finish(nil)
    }

    private static func append(_ batch: [ByteBuffer], to buffer: inout ByteBuffer) {
        for var chunk in batch {
            buffer.writeStaticString("data: ")
            buffer.writeBuffer(&chunk)
            buffer.writeStaticString("\n\n")
        }
    }

    static func clientError(_ error: any Error) -> OpenAIError {
        switch error {
        case let error as OpenAIError: return error
        case let failure as RoutingFailure: return .from(failure)
        default: return .from(upstream: error)
        }
    }

    /// The task's result if it finishes within `limit`, else `nil` (the task keeps running).
    static func result<T: Sendable>(of task: Task<T, any Error>, within limit: Duration) async -> Result<T, any Error>? {
        await withCheckedContinuation { continuation in
            let once = ResumeOnce(continuation)
            let timer = Task {
                try? await Task.sleep(for: limit)
                once.resume(nil)
            }
            Task {
                let result = await task.result
                timer.cancel()
                once.resume(result)
            }
        }
    }
}

/// A continuation resumed by whichever of several racers comes first.
final class ResumeOnce<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value, Never>?>

    init(_ continuation: CheckedContinuation<Value, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume(_ value: Value) {
        continuation.withLock { $0.take() }?.resume(returning: value)
    }
}
