import Foundation

/// BERT's tokenizer as Hugging Face's `BertTokenizerFast` runs it: the BERT normaliser (control characters
/// dropped, whitespace unified, CJK ideographs split apart, accents stripped and text lower-cased as the model
/// says), a split on whitespace and punctuation, then WordPiece's greedy longest match against the vocabulary with
/// `##` continuations (a word that cannot be matched, or of more than 100 characters, is one `[UNK]`). Special
/// tokens written in the text (`[SEP]`, `[MASK]`…) are taken as themselves, as both of Hugging Face's BERT
/// tokenizers do.
public struct WordPieceTokenizer: Sendable {
    /// How the text is normalised before it is split.
    public struct Normalization: Sendable, Equatable {
        public var lowercase = true
        /// `nil`: strip accents when lower-casing (BERT's rule).
        public var stripAccents: Bool?
        public var splitChineseCharacters = true
        public var cleanText = true
        public init() {}
    }

    let vocabulary: [String: Int32]
    let normalization: Normalization
    let unknown: Int32
    let classify: Int32
    let separator: Int32
    /// The special tokens the vocabulary has, matched in the raw text before it is normalised.
    let specials: [(text: String, id: Int32)]
    let continuationPrefix = "##"
    let maxWordCharacters = 100

    public init(vocabulary: [String: Int32], normalization: Normalization) throws(ModelFolderError) {
        guard let unknown = vocabulary["[UNK]"], let classify = vocabulary["[CLS]"], let separator = vocabulary["[SEP]"] else {
            throw ModelFolderError("the vocabulary lacks BERT's special tokens [UNK], [CLS] and [SEP]")
        }
        self.vocabulary = vocabulary
        self.normalization = normalization
        self.unknown = unknown
        self.classify = classify
        self.separator = separator
        self.specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].compactMap { token in vocabulary[token].map { (token, $0) } }
    }

    /// A text's token ids, `[CLS]` first and `[SEP]` last, cut to `maxLength` in all; and how many tokens the
    /// whole text has (without the two special ones), so a caller can tell it was cut.
    public func encode(_ text: String, maxLength: Int) -> (ids: [Int32], fullCount: Int) {
        let room = max(0, maxLength - 2)
        var ids: [Int32] = [classify]
        var count = 0
        func add(_ id: Int32) {
            if count < room { ids.append(id) }
            count += 1
        }
        var rest = Substring(text)
        while !rest.isEmpty {
            let special = specials.compactMap { special in rest.range(of: special.text).map { ($0, special.id) } }
                .min { $0.0.lowerBound < $1.0.lowerBound }
            let plain = special.map { rest[..<$0.0.lowerBound] } ?? rest
            for word in words(of: String(plain)) {
                for id in pieces(of: word) { add(id) }
            }
            guard let (range, id) = special else { break }
            add(id)
            rest = rest[range.upperBound...]
        }
        ids.append(separator)
        return (ids, count)
    }

    /// The WordPiece ids of one pre-tokenized word.
    func pieces(of word: [Unicode.Scalar]) -> [Int32] {
        guard word.count <= maxWordCharacters else { return [unknown] }
        var ids: [Int32] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var found: Int32?
            while start < end {
                var piece = start > 0 ? continuationPrefix : ""
                piece.unicodeScalars.append(contentsOf: word[start..<end])
                if let id = vocabulary[piece] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let found else { return [unknown] }
            ids.append(found)
            start = end
        }
        return ids
    }

    /// The normalised text split into words: on whitespace, with each punctuation character a word of its own.
    func words(of text: String) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        func flush() {
            if !current.isEmpty { words.append(current) }
            current.removeAll(keepingCapacity: true)
        }
        for scalar in normalized(text).unicodeScalars {
            if Self.isWhitespace(scalar) {
                flush()
            } else if Self.isPunctuation(scalar) {
                flush()
                words.append([scalar])
            } else {
                current.append(scalar)
            }
        }
        flush()
        return words
    }

    /// BERT's normaliser, in its order: clean, split CJK, strip accents, lower-case.
    func normalized(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if normalization.cleanText {
                if scalar.value == 0 || scalar.value == 0xFFFD || Self.isControl(scalar) { continue }
                if Self.isWhitespace(scalar) {
                    scalars.append(" ")
                    continue
                }
            }
            if normalization.splitChineseCharacters && Self.isChineseCharacter(scalar) {
                scalars.append(" ")
                scalars.append(scalar)
                scalars.append(" ")
            } else {
                scalars.append(scalar)
            }
        }
        var result = String(scalars)
        if normalization.stripAccents ?? normalization.lowercase {
            var stripped = String.UnicodeScalarView()
            for scalar in result.decomposedStringWithCanonicalMapping.unicodeScalars
            where scalar.properties.generalCategory != .nonspacingMark {
                stripped.append(scalar)
            }
            result = String(stripped)
        }
        if normalization.lowercase {
            var lowered = String.UnicodeScalarView()
            for scalar in result.unicodeScalars { lowered.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars) }
            result = String(lowered)
        }
        return result
    }

    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case " ", "\t", "\n", "\r": return true
        default: return scalar.properties.isWhitespace
        }
    }

    /// Other characters (control, format, unassigned, private use) but tab and line breaks.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\t", "\n", "\r": return false
        default:
            switch scalar.properties.generalCategory {
            case .control, .format, .unassigned, .privateUse, .surrogate: return true
            default: return false
            }
        }
    }

    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let value = scalar.value
            if (33...47).contains(value) || (58...64).contains(value) || (91...96).contains(value) || (123...126).contains(value) {
                return true
            }
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation:
            return true
        default: return false
        }
    }

    /// The CJK Unified Ideographs blocks BERT splits apart (not Japanese kana or Korean Hangul).
    static func isChineseCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default: return false
        }
    }
}
