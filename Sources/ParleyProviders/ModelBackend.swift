import NIOCore
import ParleyCore
import ParleyGateway
import Synchronization

/// The limits of one attempt at an upstream call. The deadline is the whole request's: retries share it, so
/// timeouts never stack.
public struct AttemptLimits: Sendable {
    /// When the client's request must be answered by.
    public var deadline: ContinuousClock.Instant
    /// From sending the request to the first event of a streamed answer.
    public var firstToken: Duration
    /// The longest silence between two events of a streamed answer.
    public var idle: Duration
    /// The whole request's time limit, for messages.
    public var timeout: Duration

    public init(timeout: Duration, firstToken: Duration, idle: Duration) {
        self.timeout = timeout
        self.deadline = .now + timeout
        self.firstToken = firstToken
        self.idle = idle
    }

    /// Time left until the deadline (never negative).
    public var remaining: Duration { max(.zero, deadline - .now) }
}

/// A whole (non-streamed) answer in OpenAI's JSON shape.
public struct UpstreamReply: Sendable {
    public var body: ByteBuffer
    public var usage: TokenUsage?
    public init(body: ByteBuffer, usage: TokenUsage? = nil) {
        self.body = body
        self.usage = usage
    }
}

/// One kind of upstream API, speaking OpenAI's chat completion shapes to the rest of Parley whatever it
/// speaks on the wire. Errors are ``ProviderError``s.
public protocol ModelBackend: Sendable {
    /// `openai`, `anthropic`, `ollama`, `demo` or `local`.
    var kind: String { get }
    /// Whether its models answer chats (false for an embedding model).
    var chats: Bool { get }
    /// A non-streamed chat completion.
    func complete(_ request: ChatCompletionBody, model: String, limits: AttemptLimits) async throws -> UpstreamReply
    /// Starts a streamed chat completion; the stream yields ``StreamChunk``s: OpenAI chunk objects (the `data` of
    /// each event) with what each says.
    func stream(_ request: ChatCompletionBody, model: String, limits: AttemptLimits) async throws -> UpstreamStream
    /// Embeddings in OpenAI's shape.
    func embed(_ request: EmbeddingsBody, model: String, limits: AttemptLimits) async throws -> UpstreamReply
    /// The upstream's own model list.
    func listModels(limits: AttemptLimits) async throws -> [String]
    /// Relevance scores of documents for a query (`/rerank` in the shape Cohere, Jina and vLLM share:
    /// `documents` in, `results` of `index` and `relevance_score` out); the reply's body is the upstream's JSON.
    func rerank(_ request: RerankRequest, model: String, limits: AttemptLimits) async throws -> UpstreamReply
}

extension ModelBackend {
    public var chats: Bool { true }

    /// Most APIs have no reranking.
    public func rerank(_ request: RerankRequest, model: String, limits: AttemptLimits) async throws -> UpstreamReply {
        throw InvalidGatewayRequest("'\(model)' is served by a \(kind) upstream, which has no rerank API", param: "model")
    }
}


/// The ``StreamChunk``s of one streamed answer, read by an upstream reader task and handed over in batches (all the
/// events of one network read) through a small bounded queue. ``next()`` returns `nil` once the upstream
/// said it was done and throws a ``ProviderError`` when the stream failed (cut, timed out, garbled).
public final class UpstreamStream: Sendable {
    /// Reads the upstream, handing each batch of chunk objects to `emit`, which returns false once nobody
    /// reads any more. Returns when the answer is complete; throws otherwise.
    public typealias Reader = @Sendable (_ emit: @escaping @Sendable ([StreamChunk]) async -> Bool) async throws -> Void

    private let queue = HandoffQueue<[StreamChunk]>(capacity: 16)
    private let reader: Mutex<Task<Void, Never>?> = Mutex(nil)

    public init(reader: @escaping Reader) {
        let queue = self.queue
        // The reader runs on this thread until it first waits (the request sent upstream): no hand-off before it.
        let task = Task.immediate {
            do {
                try await reader { batch in await queue.push(batch) }
                queue.finish()
            } catch {
                queue.finish(error)
            }
        }
        self.reader.withLock { $0 = task }
    }

    /// The next batch of chunks; `nil` when the answer is complete.
    public func next() async throws -> [StreamChunk]? {
        try await queue.next()
    }

    /// Ends the stream with `error` after what is queued, and stops reading the upstream (the server is
    /// shutting down).
    public func stop(_ error: ProviderError) {
        queue.finish(error)
        reader.withLock { $0 }?.cancel()
    }

    /// Stops reading the upstream (the client went away, or the router gave up on this attempt).
    public func cancel() {
        queue.cancel()
        reader.withLock { $0 }?.cancel()
    }

    deinit {
        queue.cancel()
        reader.withLock { $0 }?.cancel()
    }
}
