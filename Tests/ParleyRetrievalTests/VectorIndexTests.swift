import CParleyVectors
import Foundation
import ParleyRetrieval
import Testing

@Suite struct VectorIndexTests {
    @Test func quantisedSimilarityIsTheCosineWithinRounding() {
        var source = RandomVectors(dimension: 384, clusters: 5)
        var vectors = QuantizedVectors(dimension: 384)
        let originals = (0..<200).map { _ in source.next() }
        for vector in originals { vectors.append(vector) }
        var worst: Float = 0
        for a in 0..<50 {
            for b in 0..<200 {
                worst = max(worst, abs(vectors.similarity(a, b) - RandomVectors.cosine(originals[a], originals[b])))
            }
            #expect(abs(vectors.similarity(a, a) - 1) < 0.01)
        }
        #expect(worst < 0.01, "largest error \(worst)")
        // Scale does not matter; the zero vector is similar to nothing; dimensions that are not 32-aligned work.
        var odd = QuantizedVectors(dimension: 3)
        odd.append([1, 0, 0])
        odd.append([0, 0, 0])
        odd.append([0, 2, 0])
        #expect(abs(odd.similarity(odd.query([5, 0, 0]), 0) - 1) < 0.01)
        #expect(odd.similarity(odd.query([5, 0, 0]), 1) == 0 && odd.similarity(odd.query([5, 0, 0]), 2) == 0)
        #expect(odd.similarity(odd.query([.nan, 1, 0]), 2) > 0.99, "a component that is not a number is left out")
        #expect(odd.bytesPerVector == 36)
    }

    @Test func exactSearchFindsTheNearestAndForgetsRemovedVectors() {
        var source = RandomVectors(dimension: 64, clusters: 8)
        var index = FlatVectorIndex(dimension: 64)
        let originals = (0..<2_000).map { _ in source.next() }
        for (row, vector) in originals.enumerated() { index.add(id: Int64(row) * 10, vector: vector) }
        // Against full-precision cosine: the same top 10 but for near-ties that quantisation may swap.
        var agreed = 0
        for probe in 0..<50 {
            let query = source.next()
            let cosines = originals.map { RandomVectors.cosine(query, $0) }
            let truth = originals.indices.sorted { cosines[$0] > cosines[$1] }
            let hits = index.search(query, k: 10)
            #expect(hits.count == 10 && zip(hits, hits.dropFirst()).allSatisfy { $0.score >= $1.score }, "best first")
            agreed += Set(hits.map(\.id)).intersection(truth.prefix(10).map { Int64($0) * 10 }).count
            #expect(hits[0].id == Int64(truth[0]) * 10 || abs(hits[0].score - cosines[truth[0]]) < 0.01,
                    "probe \(probe)")
        }
        #expect(agreed >= 480, "\(agreed) of 500: only near-ties that quantisation rounds may differ")
        // A vector finds itself first; once removed it is never returned.
        #expect(index.search(originals[7], k: 1).first?.id == 70)
        index.remove(id: 70)
        #expect(!index.search(originals[7], k: 2_000).contains { $0.id == 70 })
        #expect(index.liveCount == 1_999 && index.search(originals[7], k: 5_000).count == 1_999)
        // Adding an id again replaces its vector.
        index.add(id: 90, vector: originals[11])
        #expect(Set(index.search(originals[11], k: 2).map(\.id)) == [90, 110])
        #expect(index.liveCount == 1_999)
        #expect(FlatVectorIndex(dimension: 4).search([1, 0, 0, 0], k: 3).isEmpty)
    }

    @Test func everyDotProductKernelAgreesWithThePlainSum() {
        var random = SystemRandomNumberGenerator()
        let kernels = [parley_int8_kernel_portable, parley_int8_kernel_avx2, parley_int8_kernel_avx512_vnni]
            .filter { parley_int8_kernel_available($0) != 0 }
        #expect(kernels.contains(parley_int8_kernel_best()))
        // Lengths around every block size the kernels use, the extremes of the codes, rows padded past the length.
        for length in [1, 7, 31, 32, 33, 63, 64, 65, 96, 100, 384, 768, 1_024, 1_100] {
            let stride = length + 5, count = 37
            for extreme in [false, true] {
                let code = { () -> Int8 in extreme ? (Bool.random(using: &random) ? 127 : -127) : Int8.random(in: -127...127, using: &random) }
                let query = (0..<length).map { _ in code() }
                let rows = (0..<stride * count).map { _ in code() }
                let expected = (0..<count).map { row -> Int32 in
                    var sum: Int32 = 0
                    for index in 0..<length { sum += Int32(query[index]) * Int32(rows[row * stride + index]) }
                    return sum
                }
                for kernel in kernels {
                    var out = [Int32](repeating: 0, count: count)
                    parley_int8_dots(kernel, query, rows, length, stride, count, &out)
                    #expect(out == expected, "kernel \(kernel.rawValue), length \(length)")
                }
                #expect(parley_int8_dot(query, rows, length) == expected[0], "length \(length)")
            }
        }
    }

    @Test func everyFourBitKernelAgreesWithThePlainSum() {
        var random = SystemRandomNumberGenerator()
        let kernels = [parley_int8_kernel_portable, parley_int8_kernel_avx2, parley_int8_kernel_avx512_vnni]
            .filter { parley_int8_kernel_available($0) != 0 }
        // One block (128 dimensions) to nine (past what the widest kernel keeps in registers); row counts around the
        // four rows at a time the widest kernel takes; the extreme codes.
        for blocks in [1, 2, 3, 8, 9] {
            for count in [1, 3, 4, 5, 41] {
                for extreme in [false, true] {
                    let query = (0..<blocks * 128).map { _ in
                        extreme ? (Bool.random(using: &random) ? Int8(127) : -127) : Int8.random(in: -127...127, using: &random)
                    }
                    let rows = (0..<blocks * 64 * count).map { _ in extreme ? UInt8(0xFF) : UInt8.random(in: 0...255, using: &random) }
                    let expected = (0..<count).map { row -> Int32 in
                        var sum: Int32 = 0
                        for block in 0..<blocks {
                            for j in 0..<64 {
                                let byte = rows[(row * blocks + block) * 64 + j]
                                sum += Int32(query[block * 128 + j]) * Int32(byte & 15) + Int32(query[block * 128 + 64 + j]) * Int32(byte >> 4)
                            }
                        }
                        return sum
                    }
                    for kernel in kernels {
                        var out = [Int32](repeating: 0, count: count)
                        parley_nibble_dots(kernel, query, rows, blocks, count, &out)
                        #expect(out == expected, "kernel \(kernel.rawValue), \(blocks) blocks, \(count) rows")
                    }
                }
            }
        }
    }

    @Test func theFourBitFirstPassFindsWhatTheExactScanFinds() {
        // A base past its `coarseFrom` is searched in two passes; the candidates, scored again in int8, are the exact
        // scan's results — on vectors as alike as random ones (the hardest case) and on clustered ones, with removals.
        for (dimension, clusters) in [(384, 1), (100, 6)] {
            let count = 6_000
            var source = RandomVectors(dimension: dimension, clusters: clusters, spread: clusters == 1 ? 100 : 0.3)
            var twoPass = FlatVectorIndex(dimension: dimension, coarseFrom: 1_000)
            var exact = FlatVectorIndex(dimension: dimension, coarseFrom: .max)
            for id in 0..<count {
                let vector = source.next()
                twoPass.add(id: Int64(id), vector: vector)
                exact.add(id: Int64(id), vector: vector)
            }
            for id in stride(from: 0, to: count, by: 5) {
                twoPass.remove(id: Int64(id))
                exact.remove(id: Int64(id))
            }
            #expect(twoPass.bytesPerVector == exact.bytesPerVector + (dimension + 127) / 128 * 64)
            var agreed = 0
            for _ in 0..<20 {
                let query = source.next()
                let found = twoPass.search(query, k: 10), truth = exact.search(query, k: 10)
                #expect(found.allSatisfy { $0.id % 5 != 0 }, "removed vectors stay out")
                agreed += Set(found.map(\.id)).intersection(truth.map(\.id)).count
                #expect(found.map(\.score) == found.map(\.score).sorted(by: >))
            }
            #expect(agreed == 200, "\(dimension) dimensions: \(agreed) of 200")
        }
    }

    /// Exact, and in two passes (4-bit, then the best candidates of every part scored again in int8).
    @Test(arguments: [Int.max, 1_000])
    func aLargeBaseScannedInParallelFindsWhatAFullSortFinds(coarseFrom: Int) {
        // Above two slices' worth of rows, the scan is split across the cores and the parts' results merged.
        let dimension = 48, count = 3 * FlatVectorIndex.rowsPerSlice + 123
        #expect(FlatVectorIndex.slices(rows: count).count == min(3, 4 * ProcessInfo.processInfo.activeProcessorCount))
        var source = RandomVectors(dimension: dimension, clusters: 1, spread: 100)
        var index = FlatVectorIndex(dimension: dimension, coarseFrom: coarseFrom)
        var stored = QuantizedVectors(dimension: dimension)
        for id in 0..<count {
            let vector = source.next()
            index.add(id: Int64(id), vector: vector)
            stored.append(vector)
        }
        for id in stride(from: 0, to: count, by: 3) { index.remove(id: Int64(id)) }
        // 64 bytes of int8 codes, a scale and an id; one block of 4-bit codes when searched in two passes.
        #expect(index.bytesPerVector == 64 + 4 + 8 + (coarseFrom < count ? 64 : 0))
        for _ in 0..<5 {
            let query = source.next()
            let prepared = stored.query(query)
            var expected: [VectorHit] = []
            for row in 0..<count where row % 3 != 0 {
                expected.append(VectorHit(id: Int64(row), score: stored.similarity(prepared, row)))
            }
            expected.sort { (a: VectorHit, b: VectorHit) -> Bool in a.score != b.score ? a.score > b.score : a.id < b.id }
            #expect(index.search(query, k: 25) == Array(expected.prefix(25)))
        }
    }

    @Test func graphSearchRecallsWhatExactSearchFindsOnAHundredThousandVectors() {
        let dimension = 32, count = 100_000
        // No clusters to lean on: vectors spread evenly in every direction, the hard case for a graph index.
        var source = RandomVectors(dimension: dimension, clusters: 1, spread: 100)
        var graph = HNSWIndex(dimension: dimension)
        var exact = FlatVectorIndex(dimension: dimension)
        let started = ContinuousClock.now
        for id in 0..<count {
            let vector = source.next()
            graph.add(id: Int64(id), vector: vector)
            exact.add(id: Int64(id), vector: vector)
        }
        let built = ContinuousClock.now - started
        var found = 0
        let queries = 200
        for _ in 0..<queries {
            let query = source.next()
            let truth = Set(exact.search(query, k: 10).map(\.id))
            found += Set(graph.search(query, k: 10).map(\.id)).intersection(truth).count
        }
        let recall = Double(found) / Double(queries * 10)
        print("HNSW: \(count) vectors of \(dimension) dimensions built in \(built); recall@10 \(recall)")
        #expect(recall >= 0.95, "recall@10 \(recall)")
    }

    @Test func graphSearchNeverReturnsRemovedVectors() {
        var source = RandomVectors(dimension: 32, clusters: 4)
        var graph = HNSWIndex(dimension: 32)
        let originals = (0..<3_000).map { _ in source.next() }
        for (id, vector) in originals.enumerated() { graph.add(id: Int64(id), vector: vector) }
        #expect(graph.search(originals[5], k: 1).first?.id == 5)
        for id in stride(from: 0, to: 3_000, by: 2) { graph.remove(id: Int64(id)) }
        for probe in 0..<20 {
            let hits = graph.search(originals[probe], k: 10)
            #expect(hits.count == 10 && hits.allSatisfy { $0.id % 2 == 1 }, "probe \(probe)")
        }
        #expect(graph.liveCount == 1_500 && graph.nodeCount == 3_000)
        // The same vectors in the same order make the same graph: results do not change between runs.
        var again = HNSWIndex(dimension: 32)
        for (id, vector) in originals.enumerated() { again.add(id: Int64(id), vector: vector) }
        for id in stride(from: 0, to: 3_000, by: 2) { again.remove(id: Int64(id)) }
        #expect(again.search(originals[1], k: 10) == graph.search(originals[1], k: 10))
    }

    @Test func reciprocalRankFusionRewardsAgreement() {
        let fused = RankFusion.reciprocal([["a", "b", "c"], ["c", "a", "d"]])
        #expect(fused.map(\.id) == ["a", "c", "b", "d"])
        #expect(abs(fused[0].score - (1.0 / 61 + 1.0 / 62)) < 1e-12)
        #expect(RankFusion.reciprocal([[String]]()).isEmpty)
        #expect(RankFusion.reciprocal([["x", "y"], []]).map(\.id) == ["x", "y"])
    }
}
