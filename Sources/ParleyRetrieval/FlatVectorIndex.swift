import Foundation

/// Exact search: every live vector is scored against the query. Right for small bases, and the reference the
/// graph index is measured against. From ``coarseFrom`` rows on, the scan reads 4-bit codes (half the bytes) and
/// scores the best ``candidates(k:)`` of them again in int8, which is what the exact scan would have found unless
/// the 4-bit rounding pushed a true neighbour below hundreds of others.
public struct FlatVectorIndex: VectorIndex {
    private(set) var vectors: QuantizedVectors
    private(set) var rows = VectorRows()

    /// Rows from which a base is searched in two passes (4-bit, then int8): where the scan's memory traffic, not its
    /// arithmetic, sets the time (measured in bench/RESULTS.md, "Vector search at a million passages").
    public static let coarseFrom = 262_144

    public init(dimension: Int, coarseFrom: Int = FlatVectorIndex.coarseFrom) {
        vectors = QuantizedVectors(dimension: dimension, coarseFrom: coarseFrom)
    }

    /// Candidates the 4-bit pass keeps for `k` results.
    public static func candidates(k: Int) -> Int { max(16 * k, 512) }

    public var dimension: Int { vectors.dimension }
    /// Memory held per vector: its codes and scale, and its id.
    public var bytesPerVector: Int { vectors.bytesPerVector + MemoryLayout<Int64>.size }
    public var liveCount: Int { rows.liveCount }

    /// Adding an id that is already there replaces its vector.
    public mutating func add(id: Int64, vector: [Float]) {
        rows.append(id: id)
        vectors.append(vector)
    }

    public mutating func remove(id: Int64) {
        rows.remove(id: id)
    }

    public func search(_ query: [Float], k: Int) -> [VectorHit] {
        guard k > 0, liveCount > 0 else { return [] }
        let prepared = vectors.query(query)
        let coarse = vectors.hasCoarseCodes
        let kept = coarse ? Self.candidates(k: k) : k
        let slices = Self.slices(rows: vectors.count)
        var best: [(score: Float, row: Int32)]
        if slices.count == 1 {
            best = bestRows(prepared, k: kept, in: slices[0], coarse: coarse)
        } else {
            // A large base is scanned by every core at once, each part keeping its own best: the scan waits on
            // memory, and one core alone cannot keep enough of it in flight.
            let found = ScanResults(slices.count)
            DispatchQueue.concurrentPerform(iterations: slices.count) { part in
                found.set(part, bestRows(prepared, k: kept, in: slices[part], coarse: coarse))
            }
            best = found.all
        }
        if coarse {
            // The 4-bit pass only chose the candidates: the best of every part's are scored again as the exact scan
            // scores them (each a read from anywhere in the base, so no more than the candidates asked for).
            if best.count > kept {
                best.sort { $0.score != $1.score ? $0.score > $1.score : $0.row < $1.row }
                best.removeSubrange(kept...)
            }
            best = best.map { (vectors.similarity(prepared, Int($0.row)), $0.row) }
        }
        best.sort { $0.score != $1.score ? $0.score > $1.score : rows.ids[Int($0.row)] < rows.ids[Int($1.row)] }
        return best.prefix(k).map { VectorHit(id: rows.ids[Int($0.row)], score: $0.score) }
    }

    /// The live rows of `range` with the `k` highest similarities, in no order (from the 4-bit codes when `coarse`).
    private func bestRows(_ query: QuantizedVectors.Query, k: Int, in range: Range<Int>, coarse: Bool) -> [(score: Float, row: Int32)] {
        var best = ScoredHeap(capacity: k + 1)  // scores negated: the worst kept is on top
        // Once `k` are kept, what a row must beat: most rows are turned away by this one comparison.
        var floor = -Float.infinity
        vectors.scan(query, rows: range, coarse: coarse) { first, similar in
            for offset in 0..<similar.count where similar[offset] > floor {
                let row = first + offset
                guard rows.isLive(row) else { continue }
                if best.count == k { best.pop() }
                best.push(-similar[offset], Int32(row))
                if best.count == k { floor = -best.top!.score }
            }
        }
        return best.items.map { (-$0.score, $0.row) }
    }

    /// Rows per parallel part of a scan: below twice this, one thread scans the whole base.
    public static let rowsPerSlice = 32_768

    /// The ranges of rows scanned in parallel: up to four per core, so that when another process holds a core, the
    /// others take up its share; none smaller than ``rowsPerSlice``.
    public static func slices(rows: Int) -> [Range<Int>] {
        let parts = max(1, min(4 * ProcessInfo.processInfo.activeProcessorCount, rows / rowsPerSlice))
        return (0..<parts).map { rows * $0 / parts ..< rows * ($0 + 1) / parts }
    }
}

/// The parts of a parallel scan write their results here, each to its own slot.
private final class ScanResults: @unchecked Sendable {
    private var parts: [[(score: Float, row: Int32)]]
    private let lock = NSLock()

    init(_ count: Int) { parts = Array(repeating: [], count: count) }

    func set(_ part: Int, _ found: [(score: Float, row: Int32)]) { lock.withLock { parts[part] = found } }

    var all: [(score: Float, row: Int32)] { lock.withLock { parts.flatMap { $0 } } }
}

extension VectorHit {
    /// Best first; equal scores by id, so results are the same on every run and every database.
    static func ranked(_ a: VectorHit, _ b: VectorHit) -> Bool {
        a.score != b.score ? a.score > b.score : a.id < b.id
    }
}
