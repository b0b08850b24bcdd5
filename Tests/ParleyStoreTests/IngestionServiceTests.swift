import Foundation
import Logging
import ParleyCore
import ParleyRetrieval
@testable import ParleyStore
import Synchronization
import Testing

/// The ingestion workers on a real SQLite store, with a scripted embedder standing in for the model provider:
/// failures that pass are retried with backoff, failures that cannot are final, and the vectors are checked.
@Suite struct IngestionServiceTests {
    /// Fails the first `failures` calls with `failure`, then returns `dimension`-wide vectors.
    final class ScriptedEmbedder: Embedder {
        let calls = Mutex(0)
        let failures: Int
        let failure: EmbeddingFailure
        let dimension: Int

        init(failures: Int = 0, failure: EmbeddingFailure = EmbeddingFailure("upstream 503", mayPass: true), dimension: Int = 4) {
            self.failures = failures
            self.failure = failure
            self.dimension = dimension
        }

        func embed(_ texts: [String], model: String) async throws -> [[Float]] {
            let call = calls.withLock { count in
                count += 1
                return count
            }
            if call <= failures { throw failure }
            return texts.map { text in (0..<dimension).map { Float((text.utf8.count + $0) % 7) + 0.5 } }
        }
    }

    static func service(_ store: SQLiteConversationStore, _ embedder: any Embedder) -> IngestionService {
        var options = IngestionService.Options()
        options.workers = 1
        options.pollInterval = .milliseconds(20)
        options.firstBackoff = .milliseconds(50)
        options.maxAttempts = 3
        options.batchSize = 2
        var logger = Logger(label: "parley.test.ingestion")
        logger.logLevel = .critical
        return IngestionService(store: store, embedder: embedder, holder: "test", options: options, logger: logger)
    }

    static let text = "# Guide\n\nFirst paragraph about routers.\n\n## More\n\nSecond paragraph about modems.\n\n## Last\n\nThird one."

    /// Runs the service until the document is no longer pending (or 10 s pass) and returns it.
    static func ingest(_ embedder: any Embedder, content: String = text, model: String? = "e") async throws
        -> (KnowledgeDocument, SQLiteConversationStore, KnowledgeBase, String)
    {
        let (store, directory) = try await SQLiteStoreTests.freshStore()
        let base = try await store.createKnowledgeBase(NewKnowledgeBase(name: "b", embeddingModel: model), owner: .local,
                                                       limits: KnowledgeLimits())
        let added = try await store.addDocument(NewDocument(name: "guide.md", content: Array(content.utf8), sha256: "x"),
                                                baseID: base.id, owner: .local, limits: KnowledgeLimits())
        let service = service(store, embedder)
        let running = Task { await service.run() }
        defer { running.cancel() }
        let deadline = ContinuousClock.now + .seconds(10)
        var document = added.document
        while ContinuousClock.now < deadline {
            document = try await store.document(id: added.document.id, baseID: base.id, reader: .local)
            if !document.status.isPending { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        return (document, store, try await store.knowledgeBase(id: base.id, reader: .local), directory)
    }

    @Test func passagesAreEmbeddedInBatchesAndTheDimensionIsRecorded() async throws {
        let embedder = ScriptedEmbedder()
        let (document, store, base, directory) = try await Self.ingest(embedder)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(document.status == .ready && document.attempts == 1)
        #expect(base.embeddingDimensions == 4 && base.chunkCount == document.chunkCount)
        let vectors = try await store.passageVectors(baseID: base.id, afterID: 0, limit: 100)
        #expect(vectors.count == document.chunkCount && vectors.allSatisfy { $0.vector.codes.count == 4 })
        #expect(embedder.calls.withLock { $0 } == (document.chunkCount + 1) / 2, "batches of two")
    }

    @Test func aFailureThatMayPassIsRetriedWithBackoff() async throws {
        let embedder = ScriptedEmbedder(failures: 2)
        let (document, _, _, directory) = try await Self.ingest(embedder)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(document.status == .ready && document.attempts == 3 && document.error == nil, "\(document)")
    }

    @Test func retriesStopAtTheLimitWithTheLastReason() async throws {
        let embedder = ScriptedEmbedder(failures: 100)
        let (document, _, _, directory) = try await Self.ingest(embedder)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(document.status == .failed && document.attempts == 3)
        #expect(document.error == "embedding failed: upstream 503")
    }

    @Test func aFailureThatCannotPassIsFinalAtOnce() async throws {
        let embedder = ScriptedEmbedder(failures: 100, failure: EmbeddingFailure("unknown model 'e'", mayPass: false))
        let (document, _, _, directory) = try await Self.ingest(embedder)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(document.status == .failed && document.attempts == 1 && document.error == "embedding failed: unknown model 'e'")
    }

    @Test func aDocumentWithoutTextFailsWithoutEmbedding() async throws {
        let embedder = ScriptedEmbedder()
        let (document, _, _, directory) = try await Self.ingest(embedder, content: " \n\n \t ")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(document.status == .failed && document.attempts == 1 && document.error?.isEmpty == false, "\(document)")
        #expect(embedder.calls.withLock { $0 } == 0)
    }

    @Test func aBaseWithoutAModelIsIngestedForFullTextOnly() async throws {
        let embedder = ScriptedEmbedder()
        let (document, store, base, directory) = try await Self.ingest(embedder, model: nil)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(document.status == .ready && base.embeddingDimensions == nil)
        #expect(try await store.passageVectors(baseID: base.id, afterID: 0, limit: 100).isEmpty)
        #expect(embedder.calls.withLock { $0 } == 0)
    }
}
