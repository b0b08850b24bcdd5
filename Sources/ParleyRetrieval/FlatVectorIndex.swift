/// Exact search: every live vector is scored against the query. Right for small bases, and the reference the
/// graph index is measured against.
public struct FlatVectorIndex: VectorIndex {
    private(set) var vectors: QuantizedVectors
    private(set) var rows = VectorRows()

    public init(dimension: Int) {
        vectors = QuantizedVectors(dimension: dimension)
    }

    public var dimension: Int { vectors.dimension }
    public var liveCount: Int { rows.liveCount }

    /// Adding an id that is already there replaces its vector.
    public mutating func add(id: Int64, vector: [Float]) {
        rows.append(id: id)
        vectors.append(vector)
    }

    public mutating func remove(id: Int64) {
        rows.remove(id: id)
    }

    public func search(_ query: [Float], k: Int, include: (Int64) -> Bool) -> [VectorHit] {
        guard k > 0, liveCount > 0 else { return [] }
        let prepared = vectors.query(query)
        var best = ScoredHeap(capacity: k + 1)  // scores negated: the worst kept is on top
        for row in 0..<vectors.count where rows.isLive(row) && include(rows.ids[row]) {
            let score = vectors.similarity(prepared, row)
            if best.count < k {
                best.push(-score, Int32(row))
            } else if let worst = best.top, -worst.score < score {
                best.pop()
                best.push(-score, Int32(row))
            }
        }
        return best.items.map { VectorHit(id: rows.ids[Int($0.row)], score: -$0.score) }.sorted(by: VectorHit.ranked)
    }
}

extension VectorHit {
    /// Best first; equal scores by id, so results are the same on every run and every database.
    static func ranked(_ a: VectorHit, _ b: VectorHit) -> Bool {
        a.score != b.score ? a.score > b.score : a.id < b.id
    }
}
