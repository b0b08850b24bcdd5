/// One result of a vector search: the caller's id for the vector and its cosine similarity to the query.
public struct VectorHit: Sendable, Equatable {
    public var id: Int64
    public var score: Float

    public init(id: Int64, score: Float) {
        self.id = id
        self.score = score
    }
}

/// A searchable set of vectors, each under an id the caller chooses (a chunk's row id).
///
/// Removing an id takes it out of every later search at once; the space is reclaimed when the index is rebuilt.
public protocol VectorIndex: Sendable {
    var dimension: Int { get }
    /// Vectors that searches can return (added and not removed).
    var liveCount: Int { get }
    mutating func add(id: Int64, vector: [Float])
    mutating func remove(id: Int64)
    /// The `k` live vectors most similar to `query`, best first.
    func search(_ query: [Float], k: Int) -> [VectorHit]
}
