import Foundation
import ParleyEmbedding
import ParleyTestSupport
import Testing

/// The encoder's queue and its limits: concurrent requests share batches, a request the queue cannot hold is
/// turned away, a cancelled request leaves, an over-long input is refused by position; and half-precision weights
/// keep parity.
@Suite(.enabled(if: EmbeddingModelFixture.enabled && (EmbeddingModelFixture.hasBLAS || PostgresTestServer.required),
                "the all-MiniLM-L6-v2 folder or a BLAS library is missing; set PARLEY_REQUIRE_SERVICES=1 to make this a failure"))
struct SentenceEncoderTests {
    @Test func concurrentRequestsShareBatches() async throws {
        let encoder = try SentenceEncoder(path: try EmbeddingModelFixture.require(), threads: 1, maxBatch: 16)
        // The first request loads the model; while it runs, the others queue up and go through together.
        let texts = (0..<24).map { "Question number \($0) about the warranty of the router." }
        let vectors = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for (index, text) in texts.enumerated() {
                group.addTask { (index, try await encoder.encode([text]).vectors[0]) }
            }
            var vectors = [[Float]](repeating: [], count: texts.count)
            for try await (index, vector) in group { vectors[index] = vector }
            return vectors
        }
        #expect(encoder.peakBatch > 1, "requests waiting together are encoded together")
        #expect(encoder.peakBatch <= 16)
        // Batched or alone, a text gets the same vector.
        let alone = try await encoder.encode([texts[5]]).vectors[0]
        #expect(cosineSimilarity(alone, vectors[5]) > 0.99999)
    }

    #if os(Linux)
    @Test func theWorkersRunBelowTheRestOfTheProcess() async throws {
        let encoder = try SentenceEncoder(path: try EmbeddingModelFixture.require(), threads: 1)
        _ = try await encoder.encode(["a question"])
        /// The nice value (the 19th field of /proc/.../stat, after the command in parentheses) of each thread.
        func nice(_ path: String) -> Int? {
            guard let stat = try? String(contentsOfFile: path, encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
            return Int(stat[stat.index(after: close)...].split(separator: " ")[16])
        }
        let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")
        let values = threads.compactMap { nice("/proc/self/task/\($0)/stat") }
        #expect(values.contains(10), "a worker runs at nice 10: \(values)")
        #expect(nice("/proc/self/stat") == 0, "the process's main thread keeps its priority")
    }
    #endif

    @Test func aRequestTheQueueCannotHoldIsTurnedAway() async throws {
        let encoder = try SentenceEncoder(path: try EmbeddingModelFixture.require(), threads: 1, maxBatch: 4, maxQueuedTexts: 8)
        await #expect(throws: EncoderBusy.self) { try await encoder.encode(Array(repeating: "text", count: 9)) }
        #expect(try await encoder.encode(Array(repeating: "text", count: 8)).vectors.count == 8)
    }

    @Test func aCancelledRequestLeavesTheQueue() async throws {
        let encoder = try SentenceEncoder(path: try EmbeddingModelFixture.require(), threads: 1, maxBatch: 4)
        let long = String(repeating: "A long passage about routers and their warranties. ", count: 40)
        let task = Task { try await encoder.encode(Array(repeating: long, count: 256)) }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        // The worker moves on to what comes next.
        #expect(try await encoder.encode(["after"]).vectors.count == 1)
    }

    @Test func anInputOverTheTokenLimitIsRefusedByItsPosition() async throws {
        let encoder = try SentenceEncoder(path: try EmbeddingModelFixture.require(), threads: 1, maxInputTokens: 300)
        do {
            _ = try await encoder.encode(["short", String(repeating: "word ", count: 301)])
            Issue.record("an input of 301 tokens was encoded")
        } catch let rejected as EncodingRejected {
            #expect(rejected.index == 1 && rejected.tokens == 301 && rejected.limit == 300)
        }
        // 300 tokens pass (and are cut to the model's 256).
        #expect(try await encoder.encode([String(repeating: "word ", count: 300)]).tokens == 256)
    }

    @Test func halfPrecisionWeightsKeepParity() async throws {
        let folder = try EmbeddingModelFixture.require()
        let half = FileManager.default.temporaryDirectory.appendingPathComponent("parley-f16-\(UUID().uuidString)/all-MiniLM-L6-v2")
        try FileManager.default.createDirectory(at: half, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: half.deletingLastPathComponent()) }
        for file in try FileManager.default.contentsOfDirectory(atPath: folder) where file != "model.safetensors" {
            try FileManager.default.copyItem(atPath: folder + "/" + file, toPath: half.appendingPathComponent(file).path)
        }
        try SafeTensorsWriter.halve(folder + "/model.safetensors", into: half.appendingPathComponent("model.safetensors").path)
        let size = try FileManager.default.attributesOfItem(atPath: half.appendingPathComponent("model.safetensors").path)[.size] as? Int
        #expect((size ?? 0) < 50_000_000, "the F16 file is half the size")

        let encoder = try SentenceEncoder(path: half.path, threads: 1)
        let reference = ReferenceSet.shared.sentences
        let vectors = try await encoder.encode(reference.map(\.text)).vectors
        let worst = zip(vectors, reference).map { cosineSimilarity($0, $1.floats) }.min() ?? 0
        #expect(worst >= 0.999, "least similar: \(worst)")
    }
}

/// Writes a safetensors file with every F32 tensor of another as F16, for the half-precision test.
enum SafeTensorsWriter {
    static func halve(_ source: String, into target: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: source), options: .alwaysMapped)
        let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try #require(try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as? [String: Any])
        var entries: [String: Any] = [:]
        var body = Data()
        for name in header.keys.sorted() where name != "__metadata__" {
            let entry = try #require(header[name] as? [String: Any])
            let offsets = try #require(entry["data_offsets"] as? [Int])
            let bytes = data.subdata(in: (8 + headerLength + offsets[0])..<(8 + headerLength + offsets[1]))
            let start = body.count
            if entry["dtype"] as? String == "F32" {
                let halves = bytes.withUnsafeBytes { raw in
                    (0..<bytes.count / 4).map { Float16(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self)).bitPattern }
                }
                halves.withUnsafeBytes { body.append(contentsOf: $0) }
                entries[name] = ["dtype": "F16", "shape": entry["shape"] as Any, "data_offsets": [start, body.count]]
            } else {
                body.append(bytes)
                entries[name] = ["dtype": entry["dtype"] as Any, "shape": entry["shape"] as Any, "data_offsets": [start, body.count]]
            }
        }
        var json = try JSONSerialization.data(withJSONObject: entries)
        while (8 + json.count) % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        file.append(body)
        try file.write(to: URL(fileURLWithPath: target))
    }
}
