import Foundation

/// The in-memory vector indexes of knowledge bases, loaded from the database when a base is first searched and
/// kept under a memory cap (least recently used go first).
///
/// A base's row carries an index version that every change to its passages raises, on any replica; a search that
/// finds a newer version than the cached index reloads it, so replicas stay in step without messages between
/// them. A stale index is never a leak: every hit is read back from the database, which returns only passages that
/// are ready and readable, so a deleted document's passages are dropped even before the reload.
public actor VectorIndexCache {
    public struct Options: Sendable {
        /// Above this many vectors a base gets an HNSW graph instead of an exact scan. Measured (bench/RESULTS.md):
        /// the scan (a 4-bit first pass, then int8) takes 9–10 ms at the median for a million 384-dimension vectors
        /// on two cores, and finds what the int8 scan finds; the graph recalls less and takes minutes to build when a
        /// base is first searched.
        public var graphThreshold = 2_000_000
        /// Bytes of loaded indexes; past it the least recently searched are dropped (never the one being searched).
        /// A million 384-dimension vectors take 588 MB with their 4-bit codes.
        public var memoryCap = 1 << 30
        public var hnsw = HNSWIndex.Parameters()
        public init() {}
    }

    private struct Entry {
        var version: Int64
        var index: any VectorIndex
        var bytes: Int
        var lastUsed: UInt64
    }

    private let store: any KnowledgeStore
    private let options: Options
    private var entries: [UUID: Entry] = [:]
    private var loading: [UUID: (version: Int64, task: Task<Entry, any Error>)] = [:]
    private var clock: UInt64 = 0

    public init(store: any KnowledgeStore, options: Options = Options()) {
        self.store = store
        self.options = options
    }

    /// Bytes held by the loaded indexes.
    public var memoryUsed: Int { entries.values.reduce(0) { $0 + $1.bytes } }

    /// The `k` stored vectors of `base` most similar to `query`.
    public func search(_ base: KnowledgeBase, query: [Float], k: Int) async throws -> [VectorHit] {
        guard let dimension = base.embeddingDimensions, dimension == query.count else { return [] }
        let entry = try await index(for: base, dimension: dimension)
        clock += 1
        entries[base.id]?.lastUsed = clock
        // A scan of a large base takes milliseconds of CPU: on threads of its own, not the actor's (which every
        // search waits on) nor the cooperative pool's.
        let index = entry.index
        return try await OffPool.run(.interactive) { index.search(query, k: k) }
    }

    private func index(for base: KnowledgeBase, dimension: Int) async throws -> Entry {
        if let entry = entries[base.id], entry.version >= base.indexVersion { return entry }
        if let pending = loading[base.id], pending.version >= base.indexVersion { return try await pending.task.value }
        let store = self.store, options = self.options, version = base.indexVersion, id = base.id
        let task = Task { try await Self.load(id, version: version, dimension: dimension, store: store, options: options) }
        loading[id] = (version, task)
        defer { if loading[id]?.version == version { loading[id] = nil } }
        let entry = try await task.value
        if (entries[id]?.version ?? -1) < entry.version {
            entries[id] = entry
            evict(keeping: id)
        }
        return entries[id] ?? entry
    }

    private func evict(keeping id: UUID) {
        while memoryUsed > options.memoryCap, entries.count > 1,
              let oldest = entries.filter({ $0.key != id }).min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
            entries[oldest] = nil
        }
    }

    private static func load(_ id: UUID, version: Int64, dimension: Int, store: any KnowledgeStore, options: Options)
        async throws -> Entry
    {
        var rows: [PassageVector] = []
        var after: Int64 = 0
        while true {
            let page = try await store.passageVectors(baseID: id, afterID: after, limit: 10_000)
            rows += page.filter { $0.vector.codes.count == dimension }
            guard let last = page.last, page.count == 10_000 else { break }
            after = last.id
        }
        var index: any VectorIndex = rows.count > options.graphThreshold
            ? HNSWIndex(dimension: dimension, parameters: options.hnsw) : FlatVectorIndex(dimension: dimension)
        for row in rows { index.add(id: row.id, vector: row.vector.components) }
        let perVector = (index as? FlatVectorIndex)?.bytesPerVector ?? (dimension + 31) / 32 * 32 + 16 + options.hnsw.links * 2 * 8
        return Entry(version: version, index: index, bytes: rows.count * perVector, lastUsed: 0)
    }
}
