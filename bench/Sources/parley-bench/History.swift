// parley-bench history: seeds a database with many conversations and messages, then times the reads a chat
// UI makes (a page of the conversation list, the latest page of a long conversation, a search) through a
// release build of Parley, on SQLite and PostgreSQL in one run. The baseline is Parley's own /health/live:
// the HTTP round trip that every request pays before touching the database.
import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import ParleyCore
import ParleyMockLLM
import ParleyTestSupport
import ParleyStore
import PostgresNIO

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Seeded history: list and page latencies on large databases, on each backend.")

    @Option(help: "The parley executable (a release build).") var parley = ".build/release/parley"
    @Option(help: "Backends to measure, comma-separated.", transform: { try $0.split(separator: ",").map {
        guard let backend = Backend(rawValue: String($0)) else { throw ValidationError("unknown backend \($0)") }
        return backend
    } })
    var backends: [Backend] = [.sqlite, .postgres]
    @Option(help: "Conversations to seed.") var conversations = 10_000
    @Option(help: "Messages to seed in all.") var messages = 1_000_000
    @Option(name: .customLong("long-conversation"), help: "Messages in the one long conversation that is paged.")
    var longConversation = 1_000
    @Option(help: "Timed requests per measure (after as many again to warm up).") var requests = 2_000
    @Option(help: "Write the Markdown report here as well as to stdout.") var output: String?
    @Flag(name: .customLong("keep-data"), help: "Keep the seeded databases (and PostgreSQL running) for a look afterwards.")
    var keepData = false

    func run() async throws {
        var sections: [String] = []
        for backend in backends {
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("parley-history-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            let database = try await backend.open(work: work, name: "history")
            defer {
                if keepData {
                    print("kept \(backend.rawValue) data: \(database.url)")
                } else {
                    database.close()
                    try? FileManager.default.removeItem(atPath: work)
                }
            }
            let seeded = try await Seeder(conversations: conversations, messages: messages,
                                          longConversation: longConversation).seed(database.url)
            let server = try await ChildProcess.start(parley, ["serve", "--port", "0", "--database", database.url,
                                                              "--log-level", "warning"], log: work + "/parley.log")
            defer { server.stop() }
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            let base = "http://127.0.0.1:\(server.port)"
            // The first administrator receives the seeded history (it was stored before accounts existed).
            let auth = try await BenchAccount.authorization(client: client, base: base)
            let deepCursor = try await Self.cursor(client: client, base: base, auth: auth, skipping: conversations / 2)
            let measures: [(String, String)] = [
                ("baseline: GET /health/live (HTTP round trip, no database)", "/health/live"),
                ("first page of the conversation list (20)", "/api/v1/conversations?limit=20"),
                ("a page half-way down the list (20, by cursor)", "/api/v1/conversations?limit=20&cursor=\(deepCursor)"),
                ("latest page of the \(longConversation)-message conversation (50)",
                 "/api/v1/conversations/\(seeded.longID.lowercased)/messages?limit=50"),
                ("a page in the middle of it (50)",
                 "/api/v1/conversations/\(seeded.longID.lowercased)/messages?before=\(longConversation / 2)&limit=50"),
                ("search for a rare word (20 best)", "/api/v1/search?q=\(Seeder.rareWord)&limit=20"),
            ]
            var rows: [String] = []
            for (name, path) in measures {
                let samples = try await Self.time(client: client, url: base + path, auth: auth, count: requests)
                rows.append(String(format: "| %@ | %.2f | %.2f | %.2f | %.2f |", name, samples.percentile(50),
                                   samples.percentile(90), samples.percentile(99), samples.percentile(100)))
            }
            try await client.shutdown()
            sections.append("""
                ### \(backend.rawValue): \(seeded.conversations) conversations, \(seeded.messages) messages \
                (seeded in \(String(format: "%.0f", seeded.seconds)) s), RSS after the run \
                \(String(format: "%.1f", Double(server.rssKB()) / 1024)) MB

                | request (one at a time, \(requests) timed) | p50 ms | p90 ms | p99 ms | max ms |
                |---|---|---|---|---|
                \(rows.joined(separator: "\n"))
                """)
        }
        let text = sections.joined(separator: "\n\n")
        print(text)
        if let output { try text.write(toFile: output, atomically: true, encoding: .utf8) }
    }

    /// The cursor after `skipping` conversations of the list, newest first.
    static func cursor(client: HTTPClient, base: String, auth: String, skipping: Int) async throws -> String {
        struct Page: Decodable { var next_cursor: String? }
        var cursor: String?
        var skipped = 0
        while skipped < skipping {
            let limit = min(200, skipping - skipped)
            let url = base + "/api/v1/conversations?limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? "")
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Authorization", value: auth)
            let response = try await client.execute(request, timeout: .seconds(30))
            let page = try JSONDecoder().decode(Page.self, from: Data(buffer: try await response.body.collect(upTo: 16 << 20)))
            guard let next = page.next_cursor else { break }
            cursor = next
            skipped += limit
        }
        return cursor ?? ""
    }

    /// Times `count` GETs one after another, after `count` untimed ones; every answer must be a 200.
    static func time(client: HTTPClient, url: String, auth: String, count: Int) async throws -> Samples {
        var samples = Samples()
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: auth)
        for round in 0..<(2 * count) {
            let started = ContinuousClock.now
            let response = try await client.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 16 << 20)
            guard response.status == .ok else { throw ValidationError("\(url) answered \(response.status)") }
            if round >= count { samples.values.append(Load.milliseconds(ContinuousClock.now - started)) }
        }
        return samples
    }
}

/// Fills a database through the store's import call: one long conversation, the other messages spread over
/// the rest, with texts of varied length drawn from a fixed vocabulary (plus one rare word) so search has
/// real work.
struct Seeder {
    static let rareWord = "quixotic"
    static let vocabulary = """
        the of and to in is it that for on with as was at by be this have from or one had not but what all were \
        when we there can an your which their said if do will each about how up out them then she many some so \
        these would other into has more her two like him see time could no make than first been its who now \
        people my made over did down only way find use may water long little very after words called just where \
        most know get through back much before go good new write our used me man too any day same right look \
        think also around another came come work three word must because does part even place well such here \
        take why things help put years different away again off went old number great tell men say small every \
        found still between name should home big give air line set own under read last never us left end along \
        while might next sound below saw something thought both few those always looked show large often \
        together asked house world going want school important until form food keep children feet land side \
        without boy once animals life enough took sometimes four head above kind began almost live page got \
        earth need far hand high year mother light parts country father let night following picture being \
        study second eyes soon times story boys since white days ever paper hard near sentence better best \
        across during today others however sure means knew try told young miles sun ways thing whole hear \
        example heard several change answer room sea against top turned learn point city play toward five \
        using himself usually model server token stream database replica swift latency cache prompt answer
        """.split(separator: " ").map(String.init)

    var conversations: Int
    var messages: Int
    var longConversation: Int

    struct Seeded {
        var longID: UUID
        var conversations: Int
        var messages: Int
        var seconds: Double
    }

    func seed(_ url: String) async throws -> Seeded {
        var logger = Logger(label: "parley.bench.seed")
        logger.logLevel = .warning
        let store: any ConversationStore
        var pool: Task<Void, Never>?
        if url.hasPrefix("postgres") {
            let postgres = PostgresConversationStore(configuration: try PostgresConversationStore.configuration(url: url),
                                                     logger: logger)
            pool = await postgres.startPool()
            store = postgres
        } else {
            store = try SQLiteConversationStore(path: String(url.dropFirst("sqlite://".count)))
        }
        defer { pool?.cancel() }
        try await store.migrate()

        let started = ContinuousClock.now
        let start = Date().addingTimeInterval(-Double(conversations) * 60)
        let longID = UUID.v7(now: start)
        let others = max(1, conversations - 1)
        // The other messages spread evenly, the first `extra` conversations taking one more.
        let perOther = (messages - longConversation) / others
        let extra = (messages - longConversation) % others
        let workers = 8
        var written = 0
        try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var random = SplitMix(seed: UInt64(worker + 1))
                    var count = 0
                    for number in stride(from: worker, to: conversations, by: workers) {
                        let size = number == 0 ? longConversation : perOther + (number <= extra ? 1 : 0)
                        let id = number == 0 ? longID : UUID.v7(now: start.addingTimeInterval(Double(number) * 60))
                        try await store.importConversation(Self.conversation(
                            id: id, number: number, size: size, start: start, random: &random))
                        count += size
                    }
                    return count
                }
            }
            for try await count in group { written += count }
        }
        // A search brings SQLite's batched full-text index up to date, so indexing is counted in the seeding.
        _ = try await store.search(owner: .local, terms: SearchTerms(Self.rareWord)!, limit: 1, offset: 0)
        if let postgres = store as? PostgresConversationStore {
            // As autovacuum would shortly after a bulk load: fresh statistics for the planner.
            try await postgres.client.query("ANALYZE", logger: logger)
        }
        return Seeded(longID: longID, conversations: conversations, messages: written,
                      seconds: Load.milliseconds(ContinuousClock.now - started) / 1000)
    }

    static func conversation(id: UUID, number: Int, size: Int, start: Date, random: inout SplitMix)
        -> ConversationImport
    {
        let created = start.addingTimeInterval(Double(number) * 60)
        var messages: [Message] = []
        messages.reserveCapacity(size)
        for index in 1...max(1, size) {
            let isUser = index % 2 == 1
            let time = created.addingTimeInterval(Double(index) * 0.5)
            var words = (0..<(isUser ? 8 + random.next(12) : 25 + random.next(50))).map { _ in
                vocabulary[random.next(vocabulary.count)]
            }
            if random.next(5_000) == 0 { words.append(rareWord) }
            messages.append(Message(id: .v7(now: time), conversationID: id, index: index,
                                    parentID: isUser ? nil : messages.last?.id, role: isUser ? .user : .assistant,
                                    content: words.joined(separator: " "), model: isUser ? nil : "mock",
                                    status: .complete, createdAt: time, updatedAt: time))
        }
        let conversation = Conversation(id: id, ownerID: .local, title: "Seeded conversation \(number)", model: nil,
                                        systemPrompt: nil, messageCount: size, createdAt: created,
                                        updatedAt: messages.last?.updatedAt ?? created)
        return ConversationImport(conversation: conversation, messages: messages)
    }
}

/// A small, fast, seeded random number generator, so every run seeds the same texts.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}
