import Foundation
import ParleyMockLLM
import ParleyTestSupport
import Testing

/// Ingestion is a durable job: a real `parley serve` killed with SIGKILL while it embeds a document leaves the
/// document to its lease, and the next process on the database — the same server started again on SQLite, or
/// another replica on PostgreSQL — takes it over and finishes it, with every passage stored once.
@Suite(.serialized) struct IngestionRecoveryTests {
    /// A long Markdown document: `sections` headed sections of a few sentences each.
    static func manual(sections: Int) -> [UInt8] {
        var text = "# Appliance manual\n\n"
        for section in 1...sections {
            text += "## Section \(section)\n\n"
            text += "Step \(section) explains how the part number \(section * 7) is fitted and tested. "
            text += String(repeating: "The procedure is repeated carefully for every unit in batch \(section). ", count: 12)
            text += "\n\n"
        }
        return Array(text.utf8)
    }

    /// A mock whose embeddings each take 150 ms, so ingesting a document takes seconds.
    static func slowEmbeddings() async throws -> BackgroundService {
        var options = MockLLMServer.Options()
        options.port = 0
        options.embeddingDelayMs = 150
        return try await MockLLMServer(options: options).start(logger: TestParley.quietLogger)
    }

    static let knowledgeFlags = ["--knowledge-embedding-model", "mock-1"]

    /// Uploads the manual and waits until some, not all, of its passages are stored.
    static func uploadAndWaitUntilMidway(_ client: TestParley.Client) async throws -> (base: String, document: String) {
        let baseID = try #require(try await client.createBase(#"{"name":"Manuals"}"#)["id"] as? String)
        let upload = try await client.upload(baseID, name: "manual.md", manual(sections: 400))
        try #require(upload.status == 201, "\(upload.body)")
        let documentID = try #require((upload.json["document"] as? [String: Any])?["id"] as? String)
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            let document = try await client.request(.GET, "/api/v1/knowledge-bases/\(baseID)/documents/\(documentID)").json
            if document["status"] as? String == "processing", document["passage_count"] as? Int ?? 0 > 0 { return (baseID, documentID) }
            try #require(document["status"] as? String != "ready", "ingestion finished before it could be interrupted")
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the document never got half-way")
        return (baseID, documentID)
    }

    /// The finished document: ready, on its second attempt, its passages numbered once each.
    static func expectFinishedOnce(_ client: TestParley.Client, base: String, document: String) async throws {
        let finished = try await client.waitForDocument(base, document, timeout: .seconds(40))
        #expect(finished["status"] as? String == "ready", "\(finished)")
        #expect(finished["attempts"] as? Int == 2, "taken over once: \(finished)")
        let passages = try await client.request(.GET, "/api/v1/knowledge-bases/\(base)/documents/\(document)/passages")
        let ordinals = (passages.json["data"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
        #expect(ordinals.count == finished["passage_count"] as? Int)
        #expect(Set(ordinals).count == ordinals.count, "no passage stored twice")
        let search = try await client.search(base, "Which part number is fitted in step 119?")
        // The mock's embeddings are hashes, so only the full-text rank says anything about relevance here.
        let best = (search.json["data"] as? [[String: Any]])?.first { $0["text_rank"] as? Int == 1 }?["text"] as? String
        #expect(best?.contains("Step 119 explains how the part number 833") == true, "\(search.body.prefix(2000))")
    }

    @Test func aServerKilledMidIngestionFinishesTheDocumentWhenStartedAgain() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashRecoveryTests.binary),
                     "build the server first (swift build); looked for \(CrashRecoveryTests.binary)")
        let mock = try await Self.slowEmbeddings()
        // The mock and the clients are shut down however the test ends (an HTTP client left running traps).
        await Self.closing(mock: mock) {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-ingest-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let database = "sqlite://\(directory)/parley.db"
            let upstream = "http://127.0.0.1:\(mock.port)/v1"
            let arguments = ["serve", "--port", "0", "--database", database, "--openai-base-url", upstream,
                             "--generation-lease", "1"] + Self.knowledgeFlags

            let first = try await ChildProcess.start(CrashRecoveryTests.binary, arguments, log: directory + "/first.log",
                                                     environment: ["PATH": "/usr/bin:/bin"])
            defer { first.stop(signal: SIGKILL) }
            let client = TestParley.Client(baseURL: "http://127.0.0.1:\(first.port)")
            await Self.closing(client) {
                try await client.setUpAdmin()
                let (base, document) = try await Self.uploadAndWaitUntilMidway(client)
                first.stop(signal: SIGKILL)

                let second = try await ChildProcess.start(CrashRecoveryTests.binary, arguments, log: directory + "/second.log",
                                                          environment: ["PATH": "/usr/bin:/bin"])
                defer { second.stop(signal: SIGKILL) }
                let restarted = TestParley.Client(baseURL: "http://127.0.0.1:\(second.port)")
                await Self.closing(restarted) {
                    restarted.credentials.adopt(client.credentials)
                    try await Self.expectFinishedOnce(restarted, base: base, document: document)
                }
            }
        }
    }

    /// Runs `body`, then shuts the clients and the mock down, whether `body` threw or not; a failure is recorded.
    static func closing(_ clients: TestParley.Client..., mock: BackgroundService? = nil,
                        _ body: () async throws -> Void) async {
        do {
            try await body()
        } catch {
            Issue.record(error)
        }
        for client in clients { try? await client.shutdown() }
        try? await mock?.stop()
    }

    @Test(.enabled(if: PostgresReplicaTests.enabled, "PostgreSQL binaries not found; set PARLEY_REQUIRE_SERVICES=1 to make this a failure"))
    func anotherReplicaTakesOverTheDocumentOfOneThatDied() async throws {
        let postgres = try await PostgresTestServer.start()
        defer { postgres.stop() }
        try await postgres.createDatabase("ingestion")
        let mock = try await Self.slowEmbeddings()
        await Self.closing(mock: mock) {
            let upstream = "http://127.0.0.1:\(mock.port)/v1"
            let database = postgres.url(database: "ingestion")
            let (processA, a) = try await PostgresReplicaTests.replica(database, upstream: upstream, log: postgres.directory + "/a.log",
                                                                       extra: Self.knowledgeFlags)
            defer { processA.stop(signal: SIGKILL) }
            await Self.closing(a) {
                let (base, document) = try await Self.uploadAndWaitUntilMidway(a)
                processA.stop(signal: SIGKILL)
                // B starts after A died holding the document, so it is A's document B takes over.
                let (processB, b) = try await PostgresReplicaTests.replica(database, upstream: upstream,
                                                                           log: postgres.directory + "/b.log",
                                                                           extra: Self.knowledgeFlags)
                defer { processB.stop(signal: SIGKILL) }
                await Self.closing(b) {
                    try await Self.expectFinishedOnce(b, base: base, document: document)
                }
            }
        }
    }
}
