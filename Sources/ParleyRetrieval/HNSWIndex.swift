import Foundation

/// Approximate nearest-neighbour search over a hierarchical navigable small-world graph (Malkov & Yashunin,
/// 2016): each vector is a node linked to its near neighbours on layer 0 and, for a geometrically shrinking share
/// of the nodes, on sparser layers above; a search descends greedily from the top and then explores layer 0 with
/// a candidate list of `efSearch`. Neighbours are chosen with the paper's heuristic (a candidate is kept only if it
/// is nearer the node than to any neighbour kept so far), which keeps the graph navigable in clustered data.
///
/// Removed vectors stay in the graph as waypoints and never appear in results.
public struct HNSWIndex: VectorIndex {
    /// How the graph is built and searched.
    public struct Parameters: Sendable {
        /// Links per node on the upper layers; layer 0 has twice as many.
        public var links = 16
        /// The candidate list while inserting: larger builds slower and finds better neighbours.
        public var efConstruction = 128
        /// The candidate list while searching (at least `k`): larger is slower and recalls more.
        public var efSearch = 128
        public var seed: UInt64 = 0x5EED

        public init() {}
    }

    public let parameters: Parameters
    private(set) var vectors: QuantizedVectors
    private(set) var rows = VectorRows()
    /// Layer-0 links: node `n`'s are `layer0[n * maxLinks0 ..< n * maxLinks0 + layer0Count[n]]`.
    private var layer0: [Int32] = []
    private var layer0Count: [UInt8] = []
    /// Links on layers 1 and up, for the few nodes that reach them: `upper[n][layer - 1]`.
    private var upper: [Int32: [[Int32]]] = [:]
    private var entry: Int32 = -1
    private var topLayer = 0
    private var random: SeededRandom

    private var maxLinks0: Int { parameters.links * 2 }

    public init(dimension: Int, parameters: Parameters = Parameters()) {
        self.parameters = parameters
        vectors = QuantizedVectors(dimension: dimension)
        random = SeededRandom(seed: parameters.seed)
    }

    public var dimension: Int { vectors.dimension }
    public var liveCount: Int { rows.liveCount }
    /// Nodes in the graph, removed ones included.
    public var nodeCount: Int { rows.count }

    /// Adding an id that is already there removes the old vector and adds the new one.
    public mutating func add(id: Int64, vector: [Float]) {
        rows.append(id: id)
        let node = Int32(vectors.append(vector))
        layer0.append(contentsOf: repeatElement(-1, count: maxLinks0))
        layer0Count.append(0)
        insert(node)
    }

    public mutating func remove(id: Int64) {
        rows.remove(id: id)
    }

    public func search(_ query: [Float], k: Int) -> [VectorHit] {
        guard k > 0, liveCount > 0 else { return [] }
        let prepared = vectors.query(query)
        let score = { (node: Int32) in vectors.similarity(prepared, Int(node)) }
        var nearest = entry
        for layer in stride(from: topLayer, to: 0, by: -1) {
            nearest = greedy(from: nearest, layer: layer, score: score)
        }
        let found = searchLayer(from: [nearest], ef: max(parameters.efSearch, k), layer: 0, score: score) {
            rows.isLive(Int($0))
        }
        return found.prefix(k).map { VectorHit(id: rows.ids[Int($0.row)], score: $0.score) }.sorted(by: VectorHit.ranked)
    }

    // MARK: Building

    private mutating func insert(_ node: Int32) {
        // The node's top layer: floor(-ln(U) / ln(links)), so each layer up holds 1/links as many nodes.
        let uniform = Double(random.next() >> 11) / Double(1 << 53)
        let layer = min(Int(-log(max(uniform, .leastNonzeroMagnitude)) / log(Double(parameters.links))), 16)
        if layer > 0 { upper[node] = Array(repeating: [], count: layer) }
        guard entry >= 0 else {
            entry = node
            topLayer = layer
            return
        }
        let score = { [vectors] (other: Int32) in vectors.similarity(Int(node), Int(other)) }
        var nearest = entry
        for above in stride(from: topLayer, to: layer, by: -1) {
            nearest = greedy(from: nearest, layer: above, score: score)
        }
        var entries = [nearest]
        for current in stride(from: min(layer, topLayer), through: 0, by: -1) {
            let candidates = searchLayer(from: entries, ef: parameters.efConstruction, layer: current, score: score) { _ in true }
            let chosen = selectNeighbours(candidates, limit: current == 0 ? maxLinks0 : parameters.links)
            setLinks(of: node, layer: current, to: chosen)
            for neighbour in chosen { link(neighbour, to: node, layer: current) }
            entries = candidates.map(\.row)
        }
        if layer > topLayer {
            entry = node
            topLayer = layer
        }
    }

    /// Adds `node` to `neighbour`'s links; when they are full, the heuristic chooses among the old ones and it.
    private mutating func link(_ neighbour: Int32, to node: Int32, layer: Int) {
        var current = links(of: neighbour, layer: layer)
        let limit = layer == 0 ? maxLinks0 : parameters.links
        if current.count < limit {
            current.append(node)
        } else {
            let scored = current.map { (score: vectors.similarity(Int(neighbour), Int($0)), row: $0) }
            let candidate = vectors.similarity(Int(neighbour), Int(node))
            // Farther than every link it has: the heuristic would weigh it last, so the links stay as they are and
            // the pruning (a similarity for every pair of links) is skipped — most links made while building are
            // such, and recall against exact search holds (VectorIndexTests).
            guard candidate > scored.map(\.score).min() ?? -.infinity else { return }
            current = selectNeighbours((scored + [(candidate, node)]).sorted { $0.score > $1.score }, limit: limit)
        }
        setLinks(of: neighbour, layer: layer, to: current)
    }

    /// The paper's heuristic: walking the candidates from the nearest, keep one only if it is nearer the base than
    /// any already kept is to it; then fill up with the nearest of those passed over.
    private func selectNeighbours(_ candidates: [(score: Float, row: Int32)], limit: Int) -> [Int32] {
        var kept: [Int32] = [], passed: [Int32] = []
        kept.reserveCapacity(limit)
        for candidate in candidates {
            guard kept.count < limit else { break }
            if kept.allSatisfy({ vectors.similarity(Int(candidate.row), Int($0)) < candidate.score }) {
                kept.append(candidate.row)
            } else {
                passed.append(candidate.row)
            }
        }
        for row in passed where kept.count < limit { kept.append(row) }
        return kept
    }

    private func links(of node: Int32, layer: Int) -> [Int32] {
        if layer == 0 {
            let start = Int(node) * maxLinks0
            return Array(layer0[start..<start + Int(layer0Count[Int(node)])])
        }
        return upper[node]?[layer - 1] ?? []
    }

    private mutating func setLinks(of node: Int32, layer: Int, to links: [Int32]) {
        if layer == 0 {
            let start = Int(node) * maxLinks0
            for (offset, link) in links.enumerated() { layer0[start + offset] = link }
            layer0Count[Int(node)] = UInt8(links.count)
        } else {
            upper[node]![layer - 1] = links
        }
    }

    // MARK: Searching

    /// Follows links to ever nearer nodes on one layer until none is nearer.
    private func greedy(from start: Int32, layer: Int, score: (Int32) -> Float) -> Int32 {
        var best = start, bestScore = score(start)
        var improved = true
        while improved {
            improved = false
            for neighbour in links(of: best, layer: layer) {
                let candidate = score(neighbour)
                if candidate > bestScore {
                    best = neighbour
                    bestScore = candidate
                    improved = true
                }
            }
        }
        return best
    }

    /// The best-first search of one layer: up to `ef` nodes that `accept` takes, nearest first. Nodes it does not
    /// take are still walked through.
    private func searchLayer(from entries: [Int32], ef: Int, layer: Int, score: (Int32) -> Float,
                             accept: (Int32) -> Bool) -> [(score: Float, row: Int32)] {
        var visited = [UInt64](repeating: 0, count: rows.count / 64 + 1)
        var candidates = ScoredHeap(capacity: ef * 2)
        var results = ScoredHeap(capacity: ef + 1)  // negated: the worst kept on top
        for node in entries where visited[Int(node) >> 6] & (1 << (UInt64(node) & 63)) == 0 {
            visited[Int(node) >> 6] |= 1 << (UInt64(node) & 63)
            let similarity = score(node)
            candidates.push(similarity, node)
            if accept(node) { results.push(-similarity, node) }
        }
        while let candidate = candidates.pop() {
            if results.count >= ef, let worst = results.top, candidate.score < -worst.score { break }
            let neighbours: ArraySlice<Int32>
            if layer == 0 {
                let first = Int(candidate.row) * maxLinks0
                neighbours = layer0[first..<first + Int(layer0Count[Int(candidate.row)])]
            } else {
                neighbours = ArraySlice(upper[candidate.row]?[layer - 1] ?? [])
            }
            for neighbour in neighbours {
                let word = Int(neighbour) >> 6, bit = UInt64(1) << (UInt64(neighbour) & 63)
                guard visited[word] & bit == 0 else { continue }
                visited[word] |= bit
                let similarity = score(neighbour)
                guard results.count < ef || similarity > -(results.top?.score ?? 0) else { continue }
                candidates.push(similarity, neighbour)
                if accept(neighbour) {
                    results.push(-similarity, neighbour)
                    if results.count > ef { results.pop() }
                }
            }
        }
        return results.items.map { (score: -$0.score, row: $0.row) }.sorted { $0.score > $1.score }
    }
}
