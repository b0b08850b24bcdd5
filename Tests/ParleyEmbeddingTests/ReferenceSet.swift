import Foundation

/// What sentence-transformers made of the test sentences (Reference/make_reference.py wrote it).
struct ReferenceSet: Decodable {
    struct Sentence: Decodable {
        var text: String
        var ids: [Int32]
        /// Float32, little-endian, base64.
        var vector: String

        var floats: [Float] {
            let bytes = [UInt8](Data(base64Encoded: vector) ?? Data())
            return bytes.withUnsafeBytes { raw in (0..<bytes.count / 4).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        }
    }

    struct Ranking: Decodable {
        var passages: [String]
        /// Each question with the index of the passage that answers it.
        var questions: [Question]
        var reference_first: [Int]
    }

    struct Question: Decodable {
        var text: String
        var answer: Int

        init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            text = try container.decode(String.self)
            answer = try container.decode(Int.self)
        }
    }

    var max_seq_length: Int
    var sentences: [Sentence]
    var ranking: Ranking

    static let shared: ReferenceSet = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Reference/reference.json")
        // The file is committed with the tests; a missing or damaged one is a broken checkout.
        return try! JSONDecoder().decode(ReferenceSet.self, from: Data(contentsOf: url))
    }()
}

func cosine(_ a: [Float], _ b: [Float]) -> Double {
    var dot = 0.0, left = 0.0, right = 0.0
    for (x, y) in zip(a, b) {
        dot += Double(x) * Double(y)
        left += Double(x) * Double(x)
        right += Double(y) * Double(y)
    }
    return dot / max((left * right).squareRoot(), 1e-30)
}
