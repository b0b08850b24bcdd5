import Foundation

/// A sentence-transformers model folder, as read from its small files: the BERT configuration, the tokenizer's
/// settings and vocabulary, the pooling, whether vectors are normalised, and the longest input. Reading it touches
/// no weights; ``SafeTensors`` only maps them.
public struct ModelFolder: Sendable {
    /// How token vectors become one sentence vector.
    public enum Pooling: String, Sendable {
        case mean, cls, max
    }

    /// BERT's shape, from `config.json`.
    public struct Architecture: Sendable, Equatable {
        public var hiddenSize: Int
        public var layers: Int
        public var heads: Int
        public var intermediateSize: Int
        public var maxPositions: Int
        public var typeVocabularySize: Int
        public var vocabularySize: Int
        public var layerNormEpsilon: Float
        public var activation: Activation
    }

    /// The feed-forward activation.
    public enum Activation: String, Sendable {
        /// The exact, erf-based GELU (`gelu`).
        case gelu
        /// The tanh approximation (`gelu_new`, `gelu_pytorch_tanh`).
        case geluTanh
        case relu
    }

    public let path: String
    /// The folder's name: the model is served as `local/<name>`.
    public let name: String
    public let architecture: Architecture
    /// The normaliser's settings from `tokenizer_config.json`; `tokenizer.json`'s, when there is one, take their
    /// place when the tokenizer is built (it is large: reading it is left to the first request).
    public let normalization: WordPieceTokenizer.Normalization
    public let pooling: Pooling
    /// Whether sentence vectors are scaled to length 1 (sentence-transformers' `Normalize` module).
    public let normalize: Bool
    /// Tokens per input, `[CLS]` and `[SEP]` included; longer inputs are cut.
    public let maxTokens: Int
    let weightsPath: String

    /// Reads and checks the folder's configuration: a missing file or an unsupported setting is an error that
    /// names it.
    public init(path: String) throws(ModelFolderError) {
        let url = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelFolderError("\(path) is not a folder (expected a sentence-transformers model folder)")
        }
        self.path = url.path
        self.name = url.lastPathComponent
        let config = try Self.object(url, "config.json")
        guard let type = config["model_type"] as? String else { throw ModelFolderError("\(url.path)/config.json names no model_type") }
        guard type == "bert" else {
            throw ModelFolderError("\(url.path)/config.json: model_type '\(type)' is not supported (only BERT-architecture models are)")
        }
        if let position = config["position_embedding_type"] as? String, position != "absolute" {
            throw ModelFolderError("\(url.path)/config.json: position_embedding_type '\(position)' is not supported")
        }
        let activationName = config["hidden_act"] as? String ?? "gelu"
        let activation: Activation
        switch activationName {
        case "gelu": activation = .gelu
        case "gelu_new", "gelu_pytorch_tanh": activation = .geluTanh
        case "relu": activation = .relu
        default: throw ModelFolderError("\(url.path)/config.json: hidden_act '\(activationName)' is not supported")
        }
        func integer(_ key: String) throws(ModelFolderError) -> Int {
            guard let value = config[key] as? Int, value > 0 else {
                throw ModelFolderError("\(url.path)/config.json has no positive integer '\(key)'")
            }
            return value
        }
        architecture = Architecture(
            hiddenSize: try integer("hidden_size"), layers: try integer("num_hidden_layers"),
            heads: try integer("num_attention_heads"), intermediateSize: try integer("intermediate_size"),
            maxPositions: try integer("max_position_embeddings"), typeVocabularySize: try integer("type_vocab_size"),
            vocabularySize: try integer("vocab_size"),
            layerNormEpsilon: Float(config["layer_norm_eps"] as? Double ?? 1e-12), activation: activation)
        guard architecture.hiddenSize % 8 == 0 else {
            throw ModelFolderError("\(url.path)/config.json: hidden_size \(architecture.hiddenSize) is not a multiple of 8, which the encoder needs")
        }
        guard architecture.hiddenSize % architecture.heads == 0 else {
            throw ModelFolderError("\(url.path)/config.json: hidden_size is not a multiple of num_attention_heads")
        }

        let modules = try? Self.optionalObjects(url, "modules.json")
        let poolingPath = modules?.first { ($0["type"] as? String)?.hasSuffix("Pooling") == true }?["path"] as? String
        let pooling = try Self.optionalObject(url, (poolingPath ?? "1_Pooling") + "/config.json")
        if let pooling {
            if pooling["pooling_mode_cls_token"] as? Bool == true { self.pooling = .cls }
            else if pooling["pooling_mode_mean_tokens"] as? Bool == true { self.pooling = .mean }
            else if pooling["pooling_mode_max_tokens"] as? Bool == true { self.pooling = .max }
            else { throw ModelFolderError("\(url.path)/\(poolingPath ?? "1_Pooling")/config.json: only mean, CLS and max pooling are supported") }
        } else {
            self.pooling = .mean
        }
        normalize = modules?.contains { ($0["type"] as? String)?.hasSuffix("Normalize") == true } ?? false

        let sentenceConfig = try Self.optionalObject(url, "sentence_bert_config.json")
        let tokenizerConfig = try Self.optionalObject(url, "tokenizer_config.json")
        var normalization = WordPieceTokenizer.Normalization()
        if let lower = tokenizerConfig?["do_lower_case"] as? Bool { normalization.lowercase = lower }
        if let strip = tokenizerConfig?["strip_accents"] as? Bool { normalization.stripAccents = strip }
        if let split = tokenizerConfig?["tokenize_chinese_chars"] as? Bool { normalization.splitChineseCharacters = split }
        self.normalization = normalization
        self.lowercasesInput = sentenceConfig?["do_lower_case"] as? Bool ?? false
        let configured = sentenceConfig?["max_seq_length"] as? Int ?? tokenizerConfig?["model_max_length"] as? Int ?? architecture.maxPositions
        maxTokens = max(3, min(configured, architecture.maxPositions))

        weightsPath = url.appendingPathComponent("model.safetensors").path
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            throw ModelFolderError("\(url.path) has no model.safetensors (PyTorch .bin weights are not supported; convert them to safetensors)")
        }
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent("vocab.txt").path)
            || FileManager.default.fileExists(atPath: url.appendingPathComponent("tokenizer.json").path) else {
            throw ModelFolderError("\(url.path) has neither vocab.txt nor tokenizer.json")
        }
    }

    /// Whether sentence-transformers lower-cases the text before the tokenizer sees it.
    public let lowercasesInput: Bool

    /// The model's tokenizer (reads the vocabulary, and `tokenizer.json`'s normaliser when there is one).
    public func tokenizer() throws(ModelFolderError) -> WordPieceTokenizer {
        let folder = URL(fileURLWithPath: path, isDirectory: true)
        let fast = try Self.optionalObject(folder, "tokenizer.json")
        var normalization = self.normalization
        if let normalizer = fast?["normalizer"] as? [String: Any], normalizer["type"] as? String == "BertNormalizer" {
            if let lower = normalizer["lowercase"] as? Bool { normalization.lowercase = lower }
            normalization.stripAccents = normalizer["strip_accents"] as? Bool
            if let split = normalizer["handle_chinese_chars"] as? Bool { normalization.splitChineseCharacters = split }
            if let clean = normalizer["clean_text"] as? Bool { normalization.cleanText = clean }
        }
        let vocabulary = try self.vocabulary(fast: fast)
        if let largest = vocabulary.values.max(), Int(largest) >= architecture.vocabularySize {
            throw ModelFolderError("\(path): the vocabulary has ids up to \(largest), beyond the model's vocab_size \(architecture.vocabularySize)")
        }
        return try WordPieceTokenizer(vocabulary: vocabulary, normalization: normalization)
    }

    /// The vocabulary: `vocab.txt` (one token per line, ids in order), else `tokenizer.json`'s WordPiece model.
    func vocabulary(fast: [String: Any]?) throws(ModelFolderError) -> [String: Int32] {
        let folder = URL(fileURLWithPath: path, isDirectory: true)
        let text = folder.appendingPathComponent("vocab.txt")
        if let contents = try? String(contentsOf: text, encoding: .utf8) {
            var vocabulary: [String: Int32] = [:]
            var lines = contents.split(separator: "\n", omittingEmptySubsequences: false)
            if lines.last == "" { lines.removeLast() }
            for (index, line) in lines.enumerated() {
                let token = line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
                if vocabulary[token] == nil { vocabulary[token] = Int32(index) }
            }
            return vocabulary
        }
        guard let model = fast?["model"] as? [String: Any],
              model["type"] as? String == "WordPiece", let entries = model["vocab"] as? [String: Int] else {
            throw ModelFolderError("\(path)/tokenizer.json has no WordPiece vocabulary")
        }
        return entries.mapValues { Int32($0) }
    }

    private static func object(_ folder: URL, _ name: String) throws(ModelFolderError) -> [String: Any] {
        guard let object = try optionalObject(folder, name) else { throw ModelFolderError("\(folder.path) has no \(name)") }
        return object
    }

    private static func optionalObject(_ folder: URL, _ name: String) throws(ModelFolderError) -> [String: Any]? {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent(name)) else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelFolderError("\(folder.path)/\(name) is not a JSON object")
        }
        return object
    }

    private static func optionalObjects(_ folder: URL, _ name: String) throws(ModelFolderError) -> [[String: Any]]? {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent(name)) else { return nil }
        guard let objects = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw ModelFolderError("\(folder.path)/\(name) is not a JSON array of modules")
        }
        return objects
    }
}
