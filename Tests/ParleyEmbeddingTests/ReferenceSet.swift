import Foundation
import ParleyTestSupport

/// What sentence-transformers made of the test sentences (Reference/make_reference.py wrote it).
struct ReferenceSet: Decodable {
    struct Sentence: Decodable {
        var text: String
        var ids: [Int32]
        /// Float32, little-endian, base64.
        var vector: String

        var floats: [Float] { littleEndianFloats(Data(base64Encoded: vector) ?? Data()) }
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
