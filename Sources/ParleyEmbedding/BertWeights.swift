/// A BERT encoder's weights, as tensors of the mapped safetensors file (checkpoints with or without the `bert.`
/// prefix; the pooler, unused by sentence embeddings, is not read).
struct BertWeights: Sendable {
    struct Dense: Sendable {
        /// out × in, row-major (PyTorch's `Linear.weight`).
        var weight: FloatTensor
        var bias: FloatTensor
        var outputs: Int
        var inputs: Int
    }

    struct Norm: Sendable {
        var weight: FloatTensor
        var bias: FloatTensor
    }

    struct Layer: Sendable {
        var query: Dense
        var key: Dense
        var value: Dense
        var attentionOutput: Dense
        var attentionNorm: Norm
        var intermediate: Dense
        var output: Dense
        var outputNorm: Norm
    }

    var words: FloatTensor
    var positions: FloatTensor
    var tokenTypes: FloatTensor
    var embeddingNorm: Norm
    var layers: [Layer]

    /// The weights from `file`.
    init(_ file: SafeTensors, _ shape: ModelFolder.Architecture) throws(ModelFolderError) {
        let prefix = Self.prefix(file)
        try self.init(shape) { name, dimensions throws(ModelFolderError) in try file.floats(prefix + name, shape: dimensions) }
    }

    /// Checks that `file` has every tensor in the right shape and a supported type, reading only its header.
    static func check(_ file: SafeTensors, _ shape: ModelFolder.Architecture) throws(ModelFolderError) {
        let prefix = Self.prefix(file)
        _ = try BertWeights(shape) { name, dimensions throws(ModelFolderError) in
            try file.check(prefix + name, shape: dimensions)
            return FloatTensor(count: 0) { _ in 0 }
        }
    }

    private static func prefix(_ file: SafeTensors) -> String {
        file.entries["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
    }

    private init(_ shape: ModelFolder.Architecture,
                 tensor: (String, [Int]) throws(ModelFolderError) -> FloatTensor) throws(ModelFolderError) {
        let hidden = shape.hiddenSize
        func dense(_ name: String, outputs: Int, inputs: Int) throws(ModelFolderError) -> Dense {
            Dense(weight: try tensor(name + ".weight", [outputs, inputs]), bias: try tensor(name + ".bias", [outputs]),
                  outputs: outputs, inputs: inputs)
        }
        func norm(_ name: String) throws(ModelFolderError) -> Norm {
            Norm(weight: try tensor(name + ".weight", [hidden]), bias: try tensor(name + ".bias", [hidden]))
        }
        words = try tensor("embeddings.word_embeddings.weight", [shape.vocabularySize, hidden])
        positions = try tensor("embeddings.position_embeddings.weight", [shape.maxPositions, hidden])
        tokenTypes = try tensor("embeddings.token_type_embeddings.weight", [shape.typeVocabularySize, hidden])
        embeddingNorm = try norm("embeddings.LayerNorm")
        layers = []
        for index in 0..<shape.layers {
            let name = "encoder.layer.\(index)"
            layers.append(Layer(
                query: try dense("\(name).attention.self.query", outputs: hidden, inputs: hidden),
                key: try dense("\(name).attention.self.key", outputs: hidden, inputs: hidden),
                value: try dense("\(name).attention.self.value", outputs: hidden, inputs: hidden),
                attentionOutput: try dense("\(name).attention.output.dense", outputs: hidden, inputs: hidden),
                attentionNorm: try norm("\(name).attention.output.LayerNorm"),
                intermediate: try dense("\(name).intermediate.dense", outputs: shape.intermediateSize, inputs: hidden),
                output: try dense("\(name).output.dense", outputs: hidden, inputs: shape.intermediateSize),
                outputNorm: try norm("\(name).output.LayerNorm")))
        }
    }
}
