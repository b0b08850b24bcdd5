import ArgumentParser
import Foundation
import Logging
import ParleyCore
import ParleyRetrieval
import ParleyStore

/// `parley-bench retrieval`: what knowledge-base search costs, each measure beside a baseline in the same run —
/// the int8 exact scan against a plain float32 scan, the HNSW graph against the exact scan (with its recall), a
/// hybrid query on a real SQLite file against its full-text half alone, and ingestion against chunking alone.
/// Query embeddings are excluded: vectors are random unit vectors of `dimension` (384, all-MiniLM-L6-v2's).
struct RetrievalBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "retrieval", abstract: "Knowledge-base search and ingestion.")

    @Option(help: "Vector dimension.") var dimension = 384
    @Option(help: "Base sizes for the exact scan, comma-separated.") var sizes = "10000,100000,1000000"
    @Option(help: "Vectors in the HNSW graph.") var graphSize = 50_000
    @Option(help: "Queries per measure.") var queries = 200
    @Option(help: "Passages in the hybrid measure.") var passages = 10_000
    @Option(help: "Write the Markdown report here as well as to stdout.") var output: String?

    func run() async throws {
        var report = "Vector search, k = 50, \(queries) queries of \(dimension) dimensions (random unit vectors):\n\n"
        report += "| vectors | float32 scan p50 / p99 ms | int8 scan p50 / p99 ms | Parley p50 / p99 ms | float32 / Parley (p50) "
            + "| Parley's recall@50 of the int8 scan | memory per million vectors |\n"
        report += "|---:|---:|---:|---:|---:|---:|---:|\n"
        var random = SeededRandom(seed: 7)
        let sizeList = sizes.split(separator: ",").compactMap { Int($0) }
        for size in sizeList {
            let vectors = (0..<size).map { _ in Self.unit(dimension, &random) }
            let queryVectors = (0..<queries).map { _ in Self.unit(dimension, &random) }
            // Parley's index takes the 4-bit first pass from `FlatVectorIndex.coarseFrom` rows; the int8 scan never does.
            var index = FlatVectorIndex(dimension: dimension)
            var exact = FlatVectorIndex(dimension: dimension, coarseFrom: .max)
            for (row, vector) in vectors.enumerated() {
                index.add(id: Int64(row + 1), vector: vector)
                if size >= FlatVectorIndex.coarseFrom { exact.add(id: Int64(row + 1), vector: vector) }
            }
            if size < FlatVectorIndex.coarseFrom { exact = index }
            let floats = vectors.flatMap { $0 }
            let baseline = Self.time(queryVectors) { query in _ = Self.floatScan(floats, dimension: dimension, query: query, k: 50) }
            let int8 = Self.time(queryVectors) { query in _ = exact.search(query, k: 50) }
            let parley = Self.time(queryVectors) { query in _ = index.search(query, k: 50) }
            var found = 0
            for query in queryVectors {
                let truth = Set(exact.search(query, k: 50).map(\.id))
                found += index.search(query, k: 50).filter { truth.contains($0.id) }.count
            }
            let recall = Double(found) / Double(queryVectors.count * 50)
            report += "| \(size) | \(Self.ms(baseline, 50)) / \(Self.ms(baseline, 99)) | \(Self.ms(int8, 50)) / \(Self.ms(int8, 99)) "
                + "| \(Self.ms(parley, 50)) / \(Self.ms(parley, 99)) | \(String(format: "%.2f", Self.p(baseline, 50) / Self.p(parley, 50)))× "
                + "| \(String(format: "%.4f", recall)) | \(index.bytesPerVector) MB |\n"
            Self.progress("scan \(size) done")
        }

        report += "\n" + graph(&random)
        report += "\n" + (try await hybrid(&random))
        report += "\n" + (try await ingestion())
        print(report)
        if let output { try report.write(toFile: output, atomically: true, encoding: .utf8) }
    }

    /// HNSW against the exact scan on `graphSize` vectors: build time, latency and recall@10.
    private func graph(_ random: inout SeededRandom) -> String {
        let vectors = (0..<graphSize).map { _ in Self.unit(dimension, &random) }
        let queryVectors = (0..<queries).map { _ in Self.unit(dimension, &random) }
        var flat = FlatVectorIndex(dimension: dimension)
        var graph = HNSWIndex(dimension: dimension)
        let started = ContinuousClock.now
        for (row, vector) in vectors.enumerated() { graph.add(id: Int64(row + 1), vector: vector) }
        let built = ContinuousClock.now - started
        for (row, vector) in vectors.enumerated() { flat.add(id: Int64(row + 1), vector: vector) }
        let exact = Self.time(queryVectors) { query in _ = flat.search(query, k: 10) }
        let approximate = Self.time(queryVectors) { query in _ = graph.search(query, k: 10) }
        var found = 0
        for query in queryVectors {
            let truth = Set(flat.search(query, k: 10).map(\.id))
            found += graph.search(query, k: 10).filter { truth.contains($0.id) }.count
        }
        let recall = Double(found) / Double(queryVectors.count * 10)
        Self.progress("graph done")
        return """
            HNSW graph on \(graphSize) vectors (links 16, efConstruction 128, efSearch 128), k = 10: built in \
            \(String(format: "%.1f", Double(built.wholeMilliseconds) / 1000)) s (\(String(format: "%.2f", Double(built.wholeMilliseconds) / Double(graphSize))) ms per vector).

            | search | p50 ms | p99 ms | recall@10 |
            |---|---:|---:|---:|
            | exact int8 scan | \(Self.ms(exact, 50)) | \(Self.ms(exact, 99)) | 1.000 |
            | HNSW | \(Self.ms(approximate, 50)) | \(Self.ms(approximate, 99)) | \(String(format: "%.3f", recall)) |

            """
    }

    /// A hybrid query (full-text in SQLite, vectors in memory, fused) against the full-text query alone.
    private func hybrid(_ random: inout SeededRandom) async throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-bench-kb-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteConversationStore(path: directory + "/bench.db")
        try await store.migrate()
        let owner = UserID("bench")
        let base = try await store.createKnowledgeBase(NewKnowledgeBase(name: "bench", embeddingModel: "random"), owner: owner,
                                                       limits: KnowledgeLimits())
        _ = try await store.addDocument(NewDocument(name: "corpus.md", content: Array("corpus".utf8), sha256: "corpus"),
                                        baseID: base.id, owner: owner, limits: KnowledgeLimits())
        let claim = try await store.claimDocument(holder: "bench", lease: .seconds(600))!
        let words = Self.vocabulary(&random)
        var ordinal = 0
        while ordinal < passages {
            let batch = (0..<min(500, passages - ordinal)).map { _ -> ChunkRecord in
                let text = (0..<60).map { _ in words[Int(random.next() % UInt64(words.count))] }.joined(separator: " ")
                defer { ordinal += 1 }
                return ChunkRecord(ordinal: ordinal, chunk: Chunk(text: text, headingPath: ["Corpus"], page: nil, start: 0,
                                                                          end: text.utf16.count, tokens: 80),
                                   vector: StoredVector(Self.unit(dimension, &random)))
            }
            _ = try await store.storeChunks(batch, documentID: claim.document.id, holder: "bench", embeddingModel: "random")
        }
        _ = try await store.finishDocument(id: claim.document.id, holder: "bench", kind: "markdown", embeddingDimensions: dimension)
        let ready = try await store.knowledgeBase(id: base.id, reader: owner)
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let embedder = RandomEmbedder(dimension: dimension)
        let retriever = HybridRetriever(store: store, embedder: embedder, indexes: VectorIndexCache(store: store), logger: logger)
        let questions = (0..<queries).map { _ in (0..<6).map { _ in words[Int(random.next() % UInt64(words.count))] }.joined(separator: " ") }
        _ = try await retriever.retrieve(questions[0], bases: [ready], reader: owner, limit: 8)  // loads the index
        var text = Samples(), vector = Samples(), both = Samples()
        for question in questions {
            let query = try await embedder.embed([question], model: "random")[0]
            let scanned = ContinuousClock.now
            _ = try await retriever.indexes.search(ready, query: query, k: 50)
            vector.values.append(Double((ContinuousClock.now - scanned).wholeMicroseconds) / 1000)
            let started = ContinuousClock.now
            _ = try await store.searchPassages(terms: QueryTerms.of(question), baseIDs: [base.id], reader: owner, limit: 50)
            text.values.append(Double((ContinuousClock.now - started).wholeMicroseconds) / 1000)
            let again = ContinuousClock.now
            _ = try await retriever.retrieve(question, bases: [ready], reader: owner, limit: 8)
            both.values.append(Double((ContinuousClock.now - again).wholeMicroseconds) / 1000)
        }
        Self.progress("hybrid done")
        return """
            A query on a SQLite knowledge base of \(passages) passages (60 words each, \(dimension)-dimension vectors), \
            \(queries) questions of 6 words; the question's embedding is not included:

            | query | p50 ms | p99 ms |
            |---|---:|---:|
            | full-text alone (FTS5, bm25 with the plan's word counts) | \(String(format: "%.2f", text.percentile(50))) | \(String(format: "%.2f", text.percentile(99))) |
            | vectors alone (exact scan of the index in memory) | \(String(format: "%.2f", vector.percentile(50))) | \(String(format: "%.2f", vector.percentile(99))) |
            | hybrid (full-text + exact vector scan, fused, passages read back) | \(String(format: "%.2f", both.percentile(50))) | \(String(format: "%.2f", both.percentile(99))) |

            """
    }

    /// Ingestion of a large Markdown document with embeddings that cost nothing, against chunking alone.
    private func ingestion() async throws -> String {
        var text = "# Manual\n\n"
        for section in 1...2_000 {
            text += "## Section \(section)\n\n" + String(repeating: "Every unit in batch \(section) is fitted and tested. ", count: 20) + "\n\n"
        }
        let document = Array(text.utf8)
        let started = ContinuousClock.now
        let (_, read) = try DocumentExtractor.extract(Data(document), name: "manual.md")
        let chunks = Chunker().chunks(of: read)
        let chunking = ContinuousClock.now - started

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-bench-ingest-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteConversationStore(path: directory + "/bench.db")
        try await store.migrate()
        let base = try await store.createKnowledgeBase(NewKnowledgeBase(name: "bench", embeddingModel: "free"), owner: .local,
                                                       limits: KnowledgeLimits())
        let added = try await store.addDocument(NewDocument(name: "manual.md", content: document, sha256: "manual"), baseID: base.id,
                                                owner: .local, limits: KnowledgeLimits())
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let service = IngestionService(store: store, embedder: RandomEmbedder(dimension: dimension), holder: "bench", logger: logger)
        let ingestStarted = ContinuousClock.now
        let running = Task { await service.run() }
        while try await store.document(id: added.document.id, baseID: base.id, reader: .local).status.isPending {
            try await Task.sleep(for: .milliseconds(5))
        }
        let ingested = ContinuousClock.now - ingestStarted
        running.cancel()
        let seconds = { (duration: Duration) in Double(duration.wholeMicroseconds) / 1_000_000 }
        Self.progress("ingestion done")
        return """
            Ingestion of a \(document.count / 1024) KB Markdown document (\(chunks.count) passages of \(dimension)-dimension \
            vectors; embedding excluded: the embedder returns random vectors at once):

            | step | seconds | passages/s |
            |---|---:|---:|
            | reading and chunking alone | \(String(format: "%.3f", seconds(chunking))) | \(Int(Double(chunks.count) / seconds(chunking))) |
            | whole ingestion (read, chunk, quantise, store in batches of 64 with FTS5, make ready) | \(String(format: "%.3f", seconds(ingested))) | \(Int(Double(chunks.count) / seconds(ingested))) |

            """
    }

    // MARK: Helpers

    /// A random unit vector.
    static func unit(_ dimension: Int, _ random: inout SeededRandom) -> [Float] {
        var vector = (0..<dimension).map { _ in Float(Double(random.next() % 2_000_001) / 1_000_000 - 1) }
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for index in vector.indices { vector[index] /= norm }
        return vector
    }

    /// The naive baseline: every dot product in float32, then the best `k`.
    static func floatScan(_ floats: [Float], dimension: Int, query: [Float], k: Int) -> [Int] {
        let count = floats.count / dimension
        var scores = [Float](repeating: 0, count: count)
        floats.withUnsafeBufferPointer { all in
            query.withUnsafeBufferPointer { q in
                for row in 0..<count {
                    var sum: Float = 0
                    let base = row * dimension
                    for index in 0..<dimension { sum += all[base + index] * q[index] }
                    scores[row] = sum
                }
            }
        }
        return Array(scores.indices.sorted { scores[$0] > scores[$1] }.prefix(k))
    }

    static func vocabulary(_ random: inout SeededRandom) -> [String] {
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        return (0..<5_000).map { _ in String((0..<(4 + Int(random.next() % 6))).map { _ in letters[Int(random.next() % 26)] }) }
    }

    /// Times `body` on each query, after five untimed ones (threads started, caches and branch predictors warm).
    static func time(_ queries: [[Float]], _ body: ([Float]) -> Void) -> Samples {
        var samples = Samples()
        for query in queries.prefix(5) { body(query) }
        for query in queries {
            let started = ContinuousClock.now
            body(query)
            samples.values.append(Double((ContinuousClock.now - started).wholeMicroseconds) / 1000)
        }
        return samples
    }

    static func progress(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

    static func p(_ samples: Samples, _ percentile: Double) -> Double { samples.percentile(percentile) }
    static func ms(_ samples: Samples, _ percentile: Double) -> String { String(format: "%.2f", samples.percentile(percentile)) }
}

/// Random vectors at no cost, standing in for the embedding model (whose time the measures exclude).
struct RandomEmbedder: Embedder {
    let dimension: Int
    func embed(_ texts: [String], model: String) async throws -> [[Float]] {
        var random = SeededRandom(seed: UInt64(texts.count))
        return texts.map { _ in RetrievalBench.unit(dimension, &random) }
    }
}
