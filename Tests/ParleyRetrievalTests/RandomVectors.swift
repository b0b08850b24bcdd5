import Foundation
import ParleyRetrieval

/// Vectors for the index tests: Gaussian clusters around random centres, the way sentence embeddings crowd around
/// topics, from a seeded generator so every run sees the same ones.
struct RandomVectors {
    var random: SeededRandom
    let dimension: Int
    let centres: [[Float]]
    /// How far a vector strays from its centre, relative to the centre's length.
    let spread: Float

    init(dimension: Int, clusters: Int, spread: Float = 0.6, seed: UInt64 = 42) {
        var random = SeededRandom(seed: seed)
        self.dimension = dimension
        self.spread = spread
        centres = (0..<clusters).map { _ in Self.gaussian(dimension, &random) }
        self.random = random
    }

    mutating func next() -> [Float] {
        let centre = centres[Int(random.next() % UInt64(centres.count))]
        let noise = Self.gaussian(dimension, &random)
        return zip(centre, noise).map { $0 + spread * $1 }
    }

    /// A vector of independent standard normal components (Box–Muller).
    static func gaussian(_ dimension: Int, _ random: inout SeededRandom) -> [Float] {
        (0..<dimension).map { _ in
            let u = max(Double(random.next() >> 11) / Double(1 << 53), .leastNonzeroMagnitude)
            let v = Double(random.next() >> 11) / Double(1 << 53)
            return Float((-2 * log(u)).squareRoot() * cos(2 * .pi * v))
        }
    }

    /// The cosine similarity in full precision, for checking the quantised one.
    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        let dot = zip(a, b).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        let norms = (a.reduce(0) { $0 + $1 * $1 } * b.reduce(0) { $0 + $1 * $1 }).squareRoot()
        return norms == 0 ? 0 : dot / norms
    }
}
