/// Reciprocal rank fusion (Cormack, Clarke & Büttcher, 2009): each ranking gives an item `1 / (k + rank)`, the
/// scores add up, and the fused list is best first. It needs no comparable scores, which full-text ranks and
/// cosine similarities are not.
public enum RankFusion {
    /// `rankings`, each best first, fused; ties keep the order of first appearance.
    public static func reciprocal<ID: Hashable>(_ rankings: [[ID]], k: Double = 60) -> [(id: ID, score: Double)] {
        var scores: [ID: Double] = [:]
        var order: [ID] = []
        for ranking in rankings {
            for (rank, id) in ranking.enumerated() {
                if scores[id] == nil { order.append(id) }
                scores[id, default: 0] += 1 / (k + Double(rank + 1))
            }
        }
        let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        return order.map { (id: $0, score: scores[$0]!) }
            .sorted { $0.score != $1.score ? $0.score > $1.score : position[$0.id]! < position[$1.id]! }
    }
}
