import Foundation

/// BERT's forward pass for a batch of token sequences, and sentence-transformers' pooling of its output.
///
/// The sequences are packed, not padded: the dense layers run once over all the batch's tokens as one matrix
/// (the batch's work is its tokens, whatever their lengths), and attention runs per sequence and head. The
/// result equals a padded batch with an attention mask, without the padding's work.
struct BertEncoder: Sendable {
    let shape: ModelFolder.Architecture
    let weights: BertWeights
    let blas: BLAS
    let pooling: ModelFolder.Pooling
    let normalize: Bool

    /// One vector per sequence.
    func encode(_ sequences: [[Int32]]) -> [[Float]] {
        let hidden = shape.hiddenSize
        let tokens = sequences.reduce(0) { $0 + $1.count }
        guard tokens > 0 else { return sequences.map { _ in [Float](repeating: 0, count: hidden) } }
        var starts: [Int] = []
        var offset = 0
        for sequence in sequences {
            starts.append(offset)
            offset += sequence.count
        }
        var state = [Float](repeating: 0, count: tokens * hidden)
        var scratch = Scratch(tokens: tokens, shape: shape, longest: sequences.map(\.count).max() ?? 0)
        state.withUnsafeMutableBufferPointer { x in
            embed(sequences, into: x.baseAddress!)
            for layer in weights.layers {
                run(layer, x: x.baseAddress!, tokens: tokens, sequences: sequences, starts: starts, scratch: &scratch)
            }
        }
        return sequences.indices.map { pool(state, start: starts[$0], count: sequences[$0].count) }
    }

    /// Word + position + token-type (0) embeddings, normalised.
    private func embed(_ sequences: [[Int32]], into x: UnsafeMutablePointer<Float>) {
        let hidden = shape.hiddenSize
        var row = 0
        for sequence in sequences {
            for (position, id) in sequence.enumerated() {
                let out = x + row * hidden
                let word = weights.words.pointer + Int(id) * hidden
                let place = weights.positions.pointer + position * hidden
                let type = weights.tokenTypes.pointer
                for index in 0..<hidden { out[index] = word[index] + place[index] + type[index] }
                layerNorm(out, weights.embeddingNorm)
                row += 1
            }
        }
    }

    private func run(_ layer: BertWeights.Layer, x: UnsafeMutablePointer<Float>, tokens: Int, sequences: [[Int32]],
                     starts: [Int], scratch: inout Scratch) {
        let hidden = shape.hiddenSize
        let heads = shape.heads
        let size = hidden / heads
        let scale = 1 / Float(size).squareRoot()
        scratch.withBuffers { q, k, v, context, scores, wide in
            dense(layer.query, input: x, rows: tokens, output: q)
            dense(layer.key, input: x, rows: tokens, output: k)
            dense(layer.value, input: x, rows: tokens, output: v)
            for (index, sequence) in sequences.enumerated() {
                let length = sequence.count
                let base = starts[index] * hidden
                for head in 0..<heads {
                    let column = base + head * size
                    blas.multiplyTransposed(m: length, n: length, k: size, a: q + column, lda: hidden, b: k + column, ldb: hidden,
                                            beta: 0, c: scores, ldc: length, alpha: scale)
                    for row in 0..<length { VectorMath.softmax(scores + row * length, count: length) }
                    blas.multiply(m: length, n: size, k: length, a: scores, lda: length, b: v + column, ldb: hidden,
                                  c: context + column, ldc: hidden)
                }
            }
            // The attention's projection, added to its input, normalised.
            dense(layer.attentionOutput, input: context, rows: tokens, output: q)
            VectorMath.add(q, to: x, count: tokens * hidden)
            for row in 0..<tokens { layerNorm(x + row * hidden, layer.attentionNorm) }
            // The feed-forward block, the same way.
            dense(layer.intermediate, input: x, rows: tokens, output: wide)
            activate(wide, count: tokens * shape.intermediateSize)
            dense(layer.output, input: wide, rows: tokens, output: q)
            VectorMath.add(q, to: x, count: tokens * hidden)
            for row in 0..<tokens { layerNorm(x + row * hidden, layer.outputNorm) }
        }
    }

    /// `output = input·Wᵀ + b` for `rows` rows.
    private func dense(_ layer: BertWeights.Dense, input: UnsafePointer<Float>, rows: Int, output: UnsafeMutablePointer<Float>) {
        for row in 0..<rows {
            (output + row * layer.outputs).update(from: layer.bias.pointer, count: layer.outputs)
        }
        blas.multiplyTransposed(m: rows, n: layer.outputs, k: layer.inputs, a: input, lda: layer.inputs,
                                b: layer.weight.pointer, ldb: layer.inputs, beta: 1, c: output, ldc: layer.outputs)
    }

    private func layerNorm(_ row: UnsafeMutablePointer<Float>, _ norm: BertWeights.Norm) {
        VectorMath.layerNorm(row, count: shape.hiddenSize, weight: norm.weight.pointer, bias: norm.bias.pointer,
                             epsilon: shape.layerNormEpsilon)
    }

    private func activate(_ values: UnsafeMutablePointer<Float>, count: Int) {
        switch shape.activation {
        case .gelu:
            VectorMath.gelu(values, count: count)
        case .geluTanh:
            for index in 0..<count {
                let x = values[index]
                values[index] = 0.5 * x * (1 + tanhf(0.7978845608028654 * (x + 0.044715 * x * x * x)))
            }
        case .relu:
            for index in 0..<count { values[index] = max(0, values[index]) }
        }
    }

    /// One sentence vector from its tokens' final states.
    private func pool(_ state: [Float], start: Int, count: Int) -> [Float] {
        let hidden = shape.hiddenSize
        var vector = [Float](repeating: 0, count: hidden)
        switch pooling {
        case .cls:
            for index in 0..<hidden { vector[index] = state[start * hidden + index] }
        case .mean:
            for token in start..<(start + count) {
                for index in 0..<hidden { vector[index] += state[token * hidden + index] }
            }
            for index in 0..<hidden { vector[index] /= Float(max(count, 1)) }
        case .max:
            for index in 0..<hidden { vector[index] = -.infinity }
            for token in start..<(start + count) {
                for index in 0..<hidden { vector[index] = max(vector[index], state[token * hidden + index]) }
            }
        }
        if normalize {
            let length = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if length > 0 { for index in 0..<hidden { vector[index] /= max(length, 1e-12) } }
        }
        return vector
    }
}

/// The forward pass's working memory for one batch.
struct Scratch {
    var q: [Float]
    var k: [Float]
    var v: [Float]
    var context: [Float]
    var scores: [Float]
    var wide: [Float]

    init(tokens: Int, shape: ModelFolder.Architecture, longest: Int) {
        let size = tokens * shape.hiddenSize
        q = [Float](repeating: 0, count: size)
        k = [Float](repeating: 0, count: size)
        v = [Float](repeating: 0, count: size)
        context = [Float](repeating: 0, count: size)
        scores = [Float](repeating: 0, count: max(1, longest * longest))
        wide = [Float](repeating: 0, count: tokens * shape.intermediateSize)
    }

    mutating func withBuffers(_ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                                       UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        q.withUnsafeMutableBufferPointer { q in
            k.withUnsafeMutableBufferPointer { k in
                v.withUnsafeMutableBufferPointer { v in
                    context.withUnsafeMutableBufferPointer { context in
                        scores.withUnsafeMutableBufferPointer { scores in
                            wide.withUnsafeMutableBufferPointer { wide in
                                body(q.baseAddress!, k.baseAddress!, v.baseAddress!, context.baseAddress!, scores.baseAddress!,
                                     wide.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
    }
}
