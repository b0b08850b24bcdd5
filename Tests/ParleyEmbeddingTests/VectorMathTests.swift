import Foundation
@testable import ParleyEmbedding
import Testing

/// The vectorised functions against the C library's, over their whole useful range.
@Suite struct VectorMathTests {
    @Test func erfIsWithinAFewUnitsOfTheCLibrarys() {
        var worst: Float = 0
        for step in -6000...6000 {
            let x = Float(step) / 1000
            worst = max(worst, abs(VectorMath.erf(SIMD8(repeating: x))[0] - erff(x)))
        }
        #expect(worst < 5e-7, "largest difference \(worst)")
    }

    @Test func expIsWithinAFewUnitsOfTheCLibrarys() {
        var worst: Float = 0
        for step in -8700...8800 {
            let x = Float(step) / 100
            let expected = expf(x)
            worst = max(worst, abs(VectorMath.exp(SIMD8(repeating: x))[0] - expected) / max(expected, .leastNormalMagnitude))
        }
        #expect(worst < 5e-7, "largest relative difference \(worst)")
        #expect(VectorMath.exp(SIMD8(repeating: -1000))[0] < 1e-37)
    }

    @Test func softmaxAndLayerNormMatchTheirDefinitions() {
        for count in [1, 7, 8, 13, 64, 140] {
            var row = (0..<count).map { Float(sin(Double($0) * 1.7) * 6) }
            let largest = row.max()!
            let expected = row.map { expf($0 - largest) }
            let sum = expected.reduce(0, +)
            row.withUnsafeMutableBufferPointer { VectorMath.softmax($0.baseAddress!, count: count) }
            for (value, reference) in zip(row, expected) { #expect(abs(value - reference / sum) < 1e-6) }
        }
        var row = (0..<384).map { Float(cos(Double($0) * 0.3) * 3 + 1) }
        let weight = (0..<384).map { Float($0 % 5) * 0.5 }, bias = (0..<384).map { Float($0 % 3) - 1 }
        let mean = row.reduce(0, +) / 384
        let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 384
        let expected = row.indices.map { (row[$0] - mean) / (variance + 1e-12).squareRoot() * weight[$0] + bias[$0] }
        row.withUnsafeMutableBufferPointer { VectorMath.layerNorm($0.baseAddress!, count: 384, weight: weight, bias: bias, epsilon: 1e-12) }
        for (value, reference) in zip(row, expected) { #expect(abs(value - reference) < 1e-5) }
    }
}
