#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import NIOPosix
import ParleyCore
import Synchronization

/// A sentence-embedding model run inside Parley: a sentence-transformers BERT folder, loaded when first used, run
/// on threads of its own so event loops and chat streams are never held up by it.
///
/// Concurrent requests are batched: workers take up to ``maxBatch`` texts at a time from the front of one queue,
/// from as many requests as that takes, so many small requests cost about what one batch does. The queue is
/// bounded (``maxQueuedTexts``); a request that would overflow it is turned away at once (``EncoderBusy``). A
/// request cancelled while waiting leaves the queue.
public final class SentenceEncoder: Sendable {
    /// The vectors of one request, and its tokens (special tokens included, after truncation).
    public struct Encoded: Sendable {
        public var vectors: [[Float]]
        public var tokens: Int
    }

    public let folder: ModelFolder
    /// Texts per forward pass.
    public let maxBatch: Int
    /// Texts waiting at most, over all requests.
    public let maxQueuedTexts: Int
    /// Inputs with more tokens than this are refused (OpenAI's rule); shorter ones are cut to the model's length.
    public let maxInputTokens: Int

    private struct Loaded: Sendable {
        var tokenizer: WordPieceTokenizer
        var encoder: BertEncoder
    }

    private struct Request {
        var texts: [String]
        var nextText = 0
        var vectors: [[Float]?]
        var tokens = 0
        var remaining: Int
        var continuation: CheckedContinuation<Encoded, any Error>
    }

    private struct State {
        var requests: [UInt64: Request] = [:]
        var order = CircularBuffer<UInt64>()
        var nextID: UInt64 = 0
        var queuedTexts = 0
        var workers = 0
        var peakBatch = 0
    }

    private let threads: NIOThreadPool
    private let blas: BLAS
    /// The weights' file, mapped at start (only its header read) and used by the first request.
    private let weightsFile: SafeTensors
    private let workerLimit: Int
    private let state = Mutex(State())
    private let model = Mutex<Result<Loaded, ModelFolderError>?>(nil)

    /// Checks the folder (configuration files and the weights' header; no weights are read), loads the BLAS
    /// library, and starts `threads` worker threads.
    public init(path: String, threads: Int, maxBatch: Int = 32, maxQueuedTexts: Int = 16_384,
                maxInputTokens: Int = 8192) throws(ModelFolderError) {
        folder = try ModelFolder(path: path)
        weightsFile = try SafeTensors(path: folder.weightsPath)
        try BertWeights.check(weightsFile, folder.architecture)
        blas = try BLAS.load()
        self.maxBatch = max(1, maxBatch)
        self.maxQueuedTexts = max(self.maxBatch, maxQueuedTexts)
        self.maxInputTokens = maxInputTokens
        self.workerLimit = max(1, threads)
        self.threads = NIOThreadPool(numberOfThreads: workerLimit)
        self.threads.start()
    }

    deinit {
        threads.shutdownGracefully { _ in }
    }

    /// The vector dimension.
    public var dimensions: Int { folder.architecture.hiddenSize }

    /// Whether the weights have been loaded (by a first request).
    public var isLoaded: Bool { model.withLock { if case .success = $0 { true } else { false } } }

    /// The largest batch run so far.
    public var peakBatch: Int { state.withLock { $0.peakBatch } }

    /// One vector per text, in order. Throws ``EncodingRejected`` for an input over ``maxInputTokens``,
    /// ``EncoderBusy`` when the queue is full, ``ModelFolderError`` when the model cannot be loaded.
    public func encode(_ texts: [String]) async throws -> Encoded {
        guard !texts.isEmpty else { return Encoded(vectors: [], tokens: 0) }
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let admitted = state.withLock { state -> Bool in
                    guard state.queuedTexts + texts.count <= maxQueuedTexts else { return false }
                    state.requests[id] = Request(texts: texts, vectors: Array(repeating: nil, count: texts.count),
                                                 remaining: texts.count, continuation: continuation)
                    state.order.append(id)
                    state.queuedTexts += texts.count
                    return true
                }
                guard admitted else {
                    continuation.resume(throwing: EncoderBusy(queued: maxQueuedTexts))
                    return
                }
                if Task.isCancelled { cancel(id) } else { wakeWorker() }
            }
        } onCancel: {
            cancel(id)
        }
    }

    private func cancel(_ id: UInt64) {
        fail(id, CancellationError())
    }

    private func wakeWorker() {
        let start = state.withLock { state -> Bool in
            guard state.workers < workerLimit else { return false }
            state.workers += 1
            return true
        }
        if start { threads.submit { [self] _ in drain() } }
    }

    /// A worker: runs batches until the queue is empty, at a lower scheduling priority than the rest of the
    /// process, so that event loops and chat streams get a core first when the model keeps one busy.
    private func drain() {
        BackgroundPriority.lowerCallingThread()
        while let batch = takeBatch() {
            switch loaded() {
            case .failure(let error):
                finish(batch.map { ($0.id, $0.index, [Float](), 0) }, failure: error)
            case .success(let model):
                var encoded: [(UInt64, Int, [Int32])] = []
                var refused: [UInt64: EncodingRejected] = [:]
                for (id, index, text) in batch {
                    let input = folder.lowercasesInput ? text.lowercased() : text
                    let (ids, count) = model.tokenizer.encode(input, maxLength: folder.maxTokens)
                    if count > maxInputTokens {
                        refused[id] = EncodingRejected(index: index, tokens: count, limit: maxInputTokens)
                    } else {
                        encoded.append((id, index, ids))
                    }
                }
                for (id, failure) in refused { fail(id, failure) }
                let kept = encoded.filter { refused[$0.0] == nil }
                let vectors = model.encoder.encode(kept.map(\.2))
                finish(zip(kept, vectors).map { ($0.0.0, $0.0.1, $0.1, $0.0.2.count) }, failure: nil)
            }
        }
    }

    /// Up to ``maxBatch`` texts from the front of the queue; nil (and this worker stops) when it is empty.
    private func takeBatch() -> [(id: UInt64, index: Int, text: String)]? {
        state.withLock { state in
            var batch: [(id: UInt64, index: Int, text: String)] = []
            while batch.count < maxBatch, let id = state.order.first {
                guard var request = state.requests[id] else {
                    state.order.removeFirst()
                    continue
                }
                let take = min(maxBatch - batch.count, request.texts.count - request.nextText)
                for index in request.nextText..<(request.nextText + take) { batch.append((id, index, request.texts[index])) }
                request.nextText += take
                state.queuedTexts -= take
                if request.nextText == request.texts.count { state.order.removeFirst() }
                state.requests[id] = request
            }
            if batch.isEmpty {
                state.workers -= 1
                return nil
            }
            state.peakBatch = max(state.peakBatch, batch.count)
            return batch
        }
    }

    private func finish(_ results: [(UInt64, Int, [Float], Int)], failure: ModelFolderError?) {
        var done: [(CheckedContinuation<Encoded, any Error>, Result<Encoded, any Error>)] = []
        state.withLock { state in
            for (id, index, vector, tokens) in results {
                guard var request = state.requests[id] else { continue }
                if let failure {
                    state.requests[id] = nil
                    state.queuedTexts -= request.texts.count - request.nextText
                    done.append((request.continuation, .failure(failure)))
                    continue
                }
                request.vectors[index] = vector
                request.tokens += tokens
                request.remaining -= 1
                if request.remaining == 0 {
                    state.requests[id] = nil
                    done.append((request.continuation, .success(Encoded(vectors: request.vectors.map { $0 ?? [] }, tokens: request.tokens))))
                } else {
                    state.requests[id] = request
                }
            }
        }
        for (continuation, result) in done { continuation.resume(with: result) }
    }

    private func fail(_ id: UInt64, _ error: any Error) {
        let request = state.withLock { state -> Request? in
            guard let request = state.requests.removeValue(forKey: id) else { return nil }
            state.queuedTexts -= request.texts.count - request.nextText
            return request
        }
        request?.continuation.resume(throwing: error)
    }

    /// The model, loaded by the first worker that needs it (the others wait on the lock meanwhile).
    private func loaded() -> Result<Loaded, ModelFolderError> {
        model.withLock { loaded -> Result<Loaded, ModelFolderError> in
            if let loaded { return loaded }
            let result = Result<Loaded, ModelFolderError> { () throws(ModelFolderError) -> Loaded in
                let tokenizer = try folder.tokenizer()
                let weights = try BertWeights(weightsFile, folder.architecture)
                let encoder = BertEncoder(shape: folder.architecture, weights: weights, blas: blas,
                                          pooling: folder.pooling, normalize: folder.normalize)
                return Loaded(tokenizer: tokenizer, encoder: encoder)
            }
            loaded = result
            return result
        }
    }
}

/// The encoder's queue is full: try again shortly.
public struct EncoderBusy: Error, Sendable, CustomStringConvertible {
    public var queued: Int
    public var description: String { "the local embedding model has \(queued) texts waiting; try again shortly" }
}

/// An input has more tokens than the model accepts.
public struct EncodingRejected: Error, Sendable, CustomStringConvertible {
    /// The input's position in its request.
    public var index: Int
    public var tokens: Int
    public var limit: Int
    public var description: String {
        "input[\(index)] has \(tokens) tokens; the most this model accepts is \(limit)"
    }
}
