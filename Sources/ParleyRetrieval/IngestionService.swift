import Foundation
import Logging
import ParleyCore

/// Ingests queued documents: claims one under a lease (on any replica), reads its text, chunks it, embeds the
/// passages in batches and stores them, then makes the document `ready` in one step.
///
/// A bounded number of documents are worked on at once. Reading and chunking run on threads of their own, not
/// on Swift's cooperative pool or an event loop, so a large upload never delays chat streams. The lease is renewed
/// while a document is worked on; when the renewal fails (cancelled, deleted, or taken over) the work stops.
/// A failure that may pass (the embedding model's upstream is down) is retried with exponential backoff; one that
/// cannot (the file holds no text) fails the document with the reason.
public final class IngestionService: Sendable {
    public struct Options: Sendable {
        public var workers = 2
        public var lease: Duration = .seconds(30)
        /// How often an idle worker looks for work queued on another replica.
        public var pollInterval: Duration = .seconds(2)
        public var chunker = Chunker()
        /// Passages embedded per call to the embedding model.
        public var batchSize = 64
        /// Passages stored per write: small, so a chat turn's own writes, queued on the same database writer,
        /// wait for one short transaction at most (16 passages with their full-text entries: about a millisecond).
        public var writeBatchSize = 16
        public var maxAttempts = 5
        public var firstBackoff: Duration = .seconds(2)
        public var maxBackoff: Duration = .seconds(300)
        public init() {}
    }

    let store: any KnowledgeStore
    let embedder: (any Embedder)?
    let holder: String
    let options: Options
    let logger: Logger
    private let wakeUps = WakeSignal()
    let reembeddingWakeUps = WakeSignal()

    public init(store: any KnowledgeStore, embedder: (any Embedder)?, holder: String, options: Options = Options(),
                logger: Logger) {
        self.store = store
        self.embedder = embedder
        self.holder = holder
        self.options = options
        self.logger = logger
    }

    /// Tells an idle worker that a document was queued here.
    public func wake() { wakeUps.signal() }
    /// Tells the idle re-embedding worker that a base's embedding model was changed here.
    public func wakeReembedding() { reembeddingWakeUps.signal() }

    /// Runs the workers until the task is cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for _ in 0..<max(1, options.workers) {
                group.addTask { await self.work() }
            }
            if embedder != nil { group.addTask { await self.reembedWork() } }
        }
    }

    private func work() async {
        await claimLoop(wakeUps: wakeUps, looking: "documents to ingest", claim: {
            try await self.store.claimDocument(holder: self.holder, lease: self.options.lease)
        }, handle: ingest)
    }

    /// Claims work until cancelled: each claim handled in turn, and while there is none, a wait for a wake-up or
    /// the poll interval.
    func claimLoop<Claim: Sendable>(wakeUps: WakeSignal, looking what: String, claim: () async throws -> Claim?,
                                    handle: (Claim) async -> Void) async {
        while !Task.isCancelled {
            var claimed: Claim?
            do {
                claimed = try await claim()
            } catch {
                logger.warning("could not look for \(what)", metadata: ["error": "\(error)"])
            }
            if let claimed {
                await handle(claimed)
            } else {
                await wakeUps.wait(upTo: options.pollInterval)
            }
        }
    }

    /// Runs `work` while renewing its lease with `renew`: whichever ends first ends the other. Losing the lease (or
    /// being cancelled) ends as a `CancellationError` failure.
    func underLease(_ work: @escaping @Sendable () async throws -> Bool,
                    renew: @escaping @Sendable (Duration) async throws -> Bool) async -> Result<Bool, any Error> {
        await withTaskGroup(of: Result<Bool, any Error>.self) { group in
            group.addTask { await Result { try await work() } }
            group.addTask { await self.keepLease(renew) ? .failure(CancellationError()) : .success(false) }
            let first = await group.next() ?? .failure(CancellationError())
            group.cancelAll()
            return first
        }
    }

    /// Ingests one document, stopping when its lease is lost.
    func ingest(_ claim: IngestionClaim) async {
        let id = claim.document.id
        // The work and the lease race: losing the lease stops the work.
        let outcome = await underLease({ try await self.process(claim) }) {
            try await self.store.renewDocumentLease(id: id, holder: self.holder, lease: $0)
        }
        switch outcome {
        case .success(true):
            logger.info("document ingested", metadata: ["document": "\(id.lowercased)"])
        case .success(false):
            logger.info("document ingestion stopped: cancelled, deleted or taken over", metadata: ["document": "\(id.lowercased)"])
        case .failure(let error) where error is CancellationError || Task.isCancelled:
            // Shutting down: the lease expires and another worker (here or elsewhere) takes the document over.
            logger.info("document ingestion interrupted", metadata: ["document": "\(id.lowercased)"])
        case .failure(let error):
            await fail(claim, error)
        }
    }

    /// Renews the lease every third of it; returns false when the lease is lost, true when cancelled.
    func keepLease(_ renew: @Sendable (Duration) async throws -> Bool) async -> Bool {
        while !Task.isCancelled {
            try? await Task.sleep(for: options.lease / 3)
            if Task.isCancelled { return true }
            if let renewed = try? await renew(options.lease), !renewed {
                return false
            }
        }
        return true
    }

    /// Reads, chunks, embeds and stores the document; false when it stopped because the lease was lost.
    private func process(_ claim: IngestionClaim) async throws -> Bool {
        let document = claim.document
        let chunker = options.chunker
        let (kind, chunks) = try await OffPool.run(.background) {
            let (kind, text) = try DocumentExtractor.extract(Data(claim.content), name: document.name)
            return (kind, chunker.chunks(of: text))
        }
        guard !chunks.isEmpty else { throw ExtractionError("the document holds no text") }
        let model = embedder == nil ? nil : claim.embeddingModel
        var dimensions = claim.embeddingDimensions
        var ordinal = 0
        for batch in chunks.chunked(into: max(1, options.batchSize)) {
            try Task.checkCancellation()
            var vectors: [StoredVector?] = Array(repeating: nil, count: batch.count)
            if let model, let embedder {
                let embedded = try await embedder.embed(batch.map(Self.embeddingText), model: model)
                guard embedded.count == batch.count, let width = embedded.first?.count, width > 0,
                      embedded.allSatisfy({ $0.count == width }) else {
                    throw EmbeddingFailure("the embedding model returned \(embedded.count) vectors for \(batch.count) passages",
                                           mayPass: false)
                }
                if let dimensions, dimensions != width {
                    throw EmbeddingFailure("the embedding model returned \(width) dimensions; this knowledge base has \(dimensions)",
                                           mayPass: false)
                }
                dimensions = width
                vectors = embedded.map(StoredVector.init)
            }
            let records = zip(batch, vectors).map { chunk, vector in
                defer { ordinal += 1 }
                return ChunkRecord(ordinal: ordinal, chunk: chunk, vector: vector)
            }
            for slice in records.chunked(into: max(1, options.writeBatchSize)) {
                guard try await store.storeChunks(Array(slice), documentID: document.id, holder: holder,
                                                  embeddingModel: claim.embeddingModel)
                else { return false }
            }
        }
        return try await store.finishDocument(id: document.id, holder: holder, kind: kind.rawValue,
                                              embeddingDimensions: model == nil ? nil : dimensions)
    }

    /// A passage as the embedding model sees it: under its headings, so a passage that only says "Press the
    /// button" still lands near questions about the section it is in.
    static func embeddingText(_ chunk: Chunk) -> String { embeddingText(chunk.text, headings: chunk.headingPath) }

    static func embeddingText(_ text: String, headings: [String]) -> String {
        headings.isEmpty ? text : headings.joined(separator: " › ") + "\n\n" + text
    }

    /// Why an attempt failed, and when to try again (nil: never, the failure will not pass or attempts ran out).
    func retry(after error: any Error, attempts: Int) -> (reason: String, at: Date?) {
        let (reason, mayPass): (String, Bool) = switch error {
        case let error as ExtractionError: (error.description, false)
        case let error as EmbeddingFailure: ("embedding failed: \(error.description)", error.mayPass)
        case let error as ParleyError: (error.description, true)
        default: ("\(error)", true)
        }
        guard mayPass && attempts < options.maxAttempts else { return (reason, nil) }
        let backoff = min(options.firstBackoff * (1 << min(attempts - 1, 20)), options.maxBackoff)
        return (reason, Date().addingTimeInterval(Double(backoff.wholeMilliseconds) / 1000))
    }

    private func fail(_ claim: IngestionClaim, _ error: any Error) async {
        let id = claim.document.id
        let (reason, retryAt) = retry(after: error, attempts: claim.document.attempts)
        let attempts = claim.document.attempts
        logger.warning("document ingestion failed", metadata: [
            "document": "\(id.lowercased)", "error": "\(reason)", "attempt": "\(attempts)",
            "retry": "\(retryAt.map { "at \($0)" } ?? "no")",
        ])
        do {
            try await store.failDocument(id: id, holder: holder, error: reason, retryAt: retryAt)
        } catch {
            // The lease will expire and another attempt will be made.
            logger.warning("could not record a failed ingestion", metadata: ["error": "\(error)"])
        }
    }

}

extension Result where Failure == any Error {
    init(_ body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

extension Array {
    /// The array in consecutive slices of `size` (the last may be shorter).
    public func chunked(into size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
