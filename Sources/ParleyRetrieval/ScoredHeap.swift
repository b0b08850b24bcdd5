/// A binary heap of (score, row) pairs with the highest score on top: the candidate queue of a graph search,
/// or, with scores negated, the bounded list of the best results found so far (the worst on top, to evict).
struct ScoredHeap {
    private(set) var items: [(score: Float, row: Int32)] = []

    init(capacity: Int = 0) { items.reserveCapacity(capacity) }

    var count: Int { items.count }
    var isEmpty: Bool { items.isEmpty }
    var top: (score: Float, row: Int32)? { items.first }

    mutating func push(_ score: Float, _ row: Int32) {
        items.append((score, row))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[parent].score < items[child].score else { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    @discardableResult
    mutating func pop() -> (score: Float, row: Int32)? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let popped = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var largest = parent
            if left < items.count && items[left].score > items[largest].score { largest = left }
            if right < items.count && items[right].score > items[largest].score { largest = right }
            guard largest != parent else { break }
            items.swapAt(parent, largest)
            parent = largest
        }
        return popped
    }
}
