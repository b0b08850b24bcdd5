import CParleyFullText
import GRDB
import Testing

/// `parley_bm25` against SQLite's own `bm25`: given each phrase's true passage count, the same score to the bit.
@Suite struct RankingFunctionTests {
    private static func database() throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            #expect(parley_register_bm25(db.sqliteConnection) == SQLITE_OK)
        }
        let queue = try DatabaseQueue(configuration: configuration)
        try queue.write { db in
            try db.execute(sql: """
                CREATE VIRTUAL TABLE passages USING fts5(text, heading, tokenize = 'porter unicode61 remove_diacritics 2')
                """)
            var random = SystemRandomNumberGenerator()
            let words = ["gasket", "valve", "seal", "pump", "torque", "bolt", "ring", "housing", "step", "part"]
            for _ in 0..<400 {
                let text = (0..<Int.random(in: 3...40, using: &random)).map { _ in
                    // Skewed: the first words are far more common than the last.
                    words[min(words.count - 1, Int(Double.random(in: 0..<1, using: &random) * Double.random(in: 0..<1, using: &random) * 10))]
                }.joined(separator: " ")
                try db.execute(sql: "INSERT INTO passages (text, heading) VALUES (?, ?)",
                               arguments: [text, words[Int.random(in: 0..<words.count, using: &random)]])
            }
        }
        return queue
    }

    @Test func withTrueCountsItScoresAsBM25Does() throws {
        let queue = try Self.database()
        try queue.read { db in
            for (query, phrases) in [(#""gasket""#, ["gasket"]), (#""gasket" OR "valve" OR "part""#, ["gasket", "valve", "part"]),
                                     (#"("part" OR "ring") AND ("part" OR "ring" OR "gasket")"#, ["part", "ring", "part", "ring", "gasket"]),
                                     (#""seal" AND "pump""#, ["seal", "pump"])] {
                let counts = try phrases.map {
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM passages WHERE passages MATCH ?", arguments: ["\"\($0)\""]) ?? 0
                }
                let rows = try Row.fetchAll(db, sql: """
                    SELECT bm25(passages, 1.0, 2.0) AS theirs, parley_bm25(passages, ?, 1.0, 2.0) AS ours
                    FROM passages WHERE passages MATCH ?
                    """, arguments: [counts.map(String.init).joined(separator: ","), query])
                #expect(rows.count > 10, "\(query)")
                for row in rows { #expect(row["theirs"] as Double == row["ours"] as Double, "\(query)") }
            }
        }
    }

    @Test func aCountListThatDoesNotMatchTheQueryIsAnError() throws {
        let queue = try Self.database()
        try queue.read { db in
            for counts in ["3", "3,4,5", "", "3,x", "-1,2", "3;4"] {
                #expect(throws: DatabaseError.self, "\(counts)") {
                    try Row.fetchAll(db, sql: """
                        SELECT parley_bm25(passages, ?) FROM passages WHERE passages MATCH '"gasket" OR "valve"'
                        """, arguments: [counts])
                }
            }
        }
    }
}
