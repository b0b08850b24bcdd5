/// The bookkeeping both vector indexes share: which caller id each stored row holds, and which rows are live.
/// A removed row stays stored (the graph index walks through it) but is never returned.
struct VectorRows: Sendable {
    private(set) var ids: [Int64] = []
    private var rows: [Int64: Int] = [:]
    private var live: [Bool] = []
    private(set) var liveCount = 0

    /// Rows stored, removed ones included.
    var count: Int { ids.count }

    /// Records the next row for `id`, after taking the id's old row out of the results.
    mutating func append(id: Int64) {
        remove(id: id)
        rows[id] = ids.count
        ids.append(id)
        live.append(true)
        liveCount += 1
    }

    mutating func remove(id: Int64) {
        if let row = rows.removeValue(forKey: id) {
            live[row] = false
            liveCount -= 1
        }
    }

    @inline(__always)
    func isLive(_ row: Int) -> Bool { live[row] }
}
