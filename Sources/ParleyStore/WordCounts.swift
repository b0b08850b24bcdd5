import Synchronization

/// How many passages the words of recent questions were found in (counted up to ``FullTextPlan/commonAt``),
/// remembered for a minute so that a common word is not walked again for every question that has it.
///
/// Only counts high enough for the walk to cost are kept, and at most ``capacity`` of them (all are forgotten when
/// it is reached). A count up to a minute old only decides which words choose the candidates and which only rank
/// them; every word is still in the query, so what a search may find does not depend on it.
final class WordCounts: Sendable {
    static let keptFor = Duration.seconds(60)
    static let capacity = 4_096
    /// Smaller counts cost little to make again.
    static let worthKeeping = 100

    private let counts = Mutex<[String: (count: Int, at: ContinuousClock.Instant)]>([:])

    /// The counts of `terms` remembered and not yet expired, nil for the others.
    func known(_ terms: [String], now: ContinuousClock.Instant = .now) -> [Int?] {
        counts.withLock { counts in
            terms.map { term in counts[term].flatMap { now - $0.at < Self.keptFor ? $0.count : nil } }
        }
    }

    /// Remembers the counts just made (`found[i]` for `terms[i]`) that are worth keeping.
    func remember(_ terms: [String], _ found: [Int], now: ContinuousClock.Instant = .now) {
        counts.withLock { counts in
            for (term, count) in zip(terms, found) where count >= Self.worthKeeping {
                if counts.count >= Self.capacity { counts.removeAll(keepingCapacity: true) }
                counts[term] = (count, now)
            }
        }
    }
}
