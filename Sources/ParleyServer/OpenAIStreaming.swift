import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ParleyCore
import ParleyGateway
import ParleyProviders
import Synchronization

/// Streams `/v1/chat/completions` answers as OpenAI does: `data: {chunk}` events and `data: [DONE]`.
///
/// The router retries until the first event of an answer arrives. Up to the keep-alive interval Parley waits
/// with the response unsent, so a failure still gets its proper status (429, 502, 504…) and the headers name
/// the deployment. A slower first token starts the event stream with keep-alive comments, so clients and
/// proxies do not give up; a failure then arrives as an error event. Chunks are written as the upstream sent
/// them, each batch (one network read) in one write. A stream that fails after it started ends with an
/// error event and no `[DONE]`, which the openai SDK raises as an `ClientError`.
enum OpenAIStreaming {
    static let headers: HTTPFields = [
        .contentType: "text/event-stream",
        .cacheControl: "no-cache",
        HTTPField.Name("X-Accel-Buffering")!: "no",
    ]

    /// Opens the answer with `open` and streams it. `finished` gets how it ended — what the answer cost (its usage
    /// chunk, else a count of its chunks; nothing for a replay or a failure before any content), its outcome and
    /// when its first chunk came — once, however the stream ends.
    static func response(headers extra: HTTPFields, keepAlive: Duration, context: ParleyRequestContext, drain: Drain, logger: Logger,
                         open: @escaping @Sendable () async throws -> Served<OpenedStream>,
                         finished settle: @escaping @Sendable (StreamEnd) async -> Void) async throws -> Response {
        let opening = Task { try await open() }
        // A client that leaves stops the router's attempts, or the upstream stream, at once: not at the next
        // keep-alive or chunk.
        let watch = DepartureWatch(context: context) {
            opening.cancel()
            Task { (try? await opening.value)?.value.stream.cancel() }
        }
        // When the replica's shutdown grace is over, a stream still open ends with an error event.
        let registration = drain.register {
            opening.cancel()
            Task { (try? await opening.value)?.value.stream.stop(.streamCut("this Parley replica is shutting down; retry the request")) }
        }
        // Every way out reports, some more than one (a client leaving mid-answer); only the first counts.
        let once = Mutex(false)
        let finished: @Sendable (StreamEnd) async -> Void = { end in
            guard once.withLock({ done in defer { done = true }; return !done }) else { return }
            watch.end()
            registration.end()
            await settle(end)
        }
        var base = headers
        base.append(contentsOf: extra)
        switch await result(of: opening, within: keepAlive) {
        case .success(let served)?:
            return Response(status: .ok, headers: OpenAIRoutes.servedHeaders(served.head, cache: served.cache, base),
                            body: ResponseBody { writer in
                                try await forward(served, to: &writer, finished: finished)
                            })
        case .failure(let error)?:
            await finished(StreamEnd(outcome: error is CancellationError ? .stopped : .failed))
            throw clientError(error)
        case nil:
            return Response(status: .ok, headers: base, body: ResponseBody { writer in
                do {
                    while true {
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        switch await result(of: opening, within: keepAlive) {
                        case nil:
                            continue
                        case .success(let served)?:
                            try await writer.write(ByteBuffer(string: ": parley deployment=\(served.head.deployment) attempts=\(served.head.attempts) cache=\(served.cache.headerValue)\n\n"))
                            try await forward(served, to: &writer, finished: finished)
                            return
                        case .failure(let error)?:
                            await finished(StreamEnd(outcome: .failed))
                            try await writer.write(ByteBuffer(string: "data: \(ErrorShape.openAI.body(clientError(error)))\n\n"))
                            try await writer.finish(nil)
                            return
                        }
                    }
                } catch {
                    // The client went away while the router was still trying.
                    // (An answer that opened just then is dropped with its stream, which stops reading.)
                    opening.cancel()
                    await finished(StreamEnd(outcome: .stopped))
                    throw error
                }
            })
        }
    }

    /// Writes the answer's chunks; ends with `[DONE]`, or with an error event if the upstream fails.
    static func forward(_ served: Served<OpenedStream>, to writer: inout any ResponseBodyWriter,
                        finished: @Sendable (StreamEnd) async -> Void) async throws {
        let stream = served.value.stream
        var tally = StreamTally(replay: served.cache != .bypass && served.cache != .miss(coalesced: false))
        defer { stream.cancel() }
        var buffer = ByteBuffer()
        tally.count(served.value.first)
        append(served.value.first, to: &buffer)
        do {
            while true {
                if buffer.readableBytes > 0 {
                    try await writer.write(buffer)
                    buffer.clear()
                }
                let batch: [StreamChunk]?
                do {
                    batch = try await stream.next()
                } catch {
                    if error is CancellationError { throw error }
                    buffer.writeString("data: \(ErrorShape.openAI.body(clientError(error)))\n\n")
                    try await writer.write(buffer)
                    try await writer.finish(nil)
                    await finished(tally.end(.failed))
                    return
                }
                guard let batch else { break }
                tally.count(batch)
                append(batch, to: &buffer)
            }
            buffer.writeString("data: [DONE]\n\n")
            try await writer.write(buffer)
            try await writer.finish(nil)
        } catch {
            await finished(tally.end(.stopped))
            throw error
        }
        await finished(tally.end(tally.replay ? .cached : .completed))
    }

    /// How a streamed answer ended.
    struct StreamEnd: Sendable {
        var spent: CallAccounting.Spent = .nothing
        var outcome: AnswerOutcome
        /// When its first chunk was forwarded.
        var firstChunkAt: ContinuousClock.Instant?
    }

    /// What a streamed answer cost: its usage chunk's total when it sent one, else one token per chunk.
    struct StreamTally {
        /// Replays and shared calls cost nothing.
        let replay: Bool
        var chunks = 0
        var usage: TokenUsage?
        var firstChunkAt: ContinuousClock.Instant?

        mutating func count(_ batch: [StreamChunk]) {
            if firstChunkAt == nil, !batch.isEmpty { firstChunkAt = .now }
            chunks += batch.count
            for chunk in batch { if let found = chunk.usage { usage = found } }
        }

        /// What the answer cost: its report, nothing for a replay or before any chunk, else a chunk count.
        var spent: CallAccounting.Spent {
            if replay { return .nothing }
            if let usage { return .reported(usage) }
            return chunks == 0 ? .nothing : .unknown(completion: chunks)
        }

        func end(_ outcome: AnswerOutcome) -> StreamEnd {
            StreamEnd(spent: spent, outcome: outcome, firstChunkAt: firstChunkAt)
        }
    }

    private static func append(_ batch: [StreamChunk], to buffer: inout ByteBuffer) {
        for chunk in batch {
            buffer.writeStaticString("data: ")
            chunk.write(to: &buffer)
            buffer.writeStaticString("\n\n")
        }
    }

    /// What the client is told of a stream that could not open or broke off.
    static func clientError(_ error: any Error) -> ClientError {
        ClientError.from(error) ?? .upstreamFailed
    }

    /// The task's result if it finishes within `limit`, else `nil` (the task keeps running).
    static func result<T: Sendable>(of task: Task<T, any Error>, within limit: Duration) async -> Result<T, any Error>? {
        await withCheckedContinuation { continuation in
            let once = ResumeOnce(continuation)
            let timer = Task {
                // A cancelled timer says nothing: only a wait that ran its course means "not yet".
                guard (try? await Task.sleep(for: limit)) != nil else { return }
                once.resume(nil)
            }
            Task {
                let result = await task.result
                once.resume(result)
                timer.cancel()
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
