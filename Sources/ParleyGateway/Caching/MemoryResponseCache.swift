import ParleyCore
import Synchronization

/// The in-process ``ResponseCache``: least recently used entries go first once either cap is reached, and
/// every entry expires after its time to live.
public final class MemoryResponseCache: ResponseCache {
    public let maxEntries: Int
    public let maxBytes: Int
    public let maxEntryBytes: Int
    private let table: Mutex<LRUTable>

    /// What the cache holds now and has done.
    public struct Statistics: Sendable, Equatable {
        public var entries = 0
        public var bytes = 0
        public var evictions = 0
        public var expirations = 0
    }

    public init(maxEntries: Int = 10_000, maxBytes: Int = 256 << 20, maxEntryBytes: Int = 1 << 20) {
        self.maxEntries = max(1, maxEntries)
        self.maxBytes = max(1, maxBytes)
        self.maxEntryBytes = min(maxEntryBytes, maxBytes)
        table = Mutex(LRUTable())
    }

    public var statistics: Statistics { table.withLock { $0.statistics } }

    public func get(_ key: String) async throws -> CachedResponse? {
        let now = ContinuousClock.now
        return table.withLock { $0.get(key, now: now) }
    }

    public func put(_ key: String, _ response: CachedResponse, ttl: Duration) async throws {
        let size = response.byteCount
        guard size <= maxEntryBytes, ttl > .zero else { return }
        let now = ContinuousClock.now
        let (maxEntries, maxBytes) = (self.maxEntries, self.maxBytes)
        table.withLock { $0.put(key, response, size: size, expires: now + ttl, maxEntries: maxEntries, maxBytes: maxBytes) }
    }
}

/// A hash table over a doubly linked list of slots, most recently used at the head.
struct LRUTable {
    struct Slot {
        var key: String
        var value: CachedResponse?
        var size: Int
        var expires: ContinuousClock.Instant
        var newer: Int
        var older: Int
    }

    private var index: [String: Int] = [:]
    private var slots: [Slot] = []
    private var free: [Int] = []
    private var newest = -1
    private var oldest = -1
    var statistics = MemoryResponseCache.Statistics()

    mutating func get(_ key: String, now: ContinuousClock.Instant) -> CachedResponse? {
        guard let position = index[key] else { return nil }
        guard slots[position].expires > now else {
            remove(position)
            statistics.expirations += 1
            return nil
        }
        moveToFront(position)
        return slots[position].value
    }

    mutating func put(_ key: String, _ value: CachedResponse, size: Int, expires: ContinuousClock.Instant,
                      maxEntries: Int, maxBytes: Int) {
        if let position = index[key] { remove(position) }
        while statistics.entries >= maxEntries || (statistics.bytes + size > maxBytes && oldest >= 0) {
            remove(oldest)
            statistics.evictions += 1
        }
        let slot = Slot(key: key, value: value, size: size, expires: expires, newer: -1, older: newest)
        let position: Int
        if let reused = free.popLast() {
            position = reused
            slots[reused] = slot
        } else {
            position = slots.count
            slots.append(slot)
        }
        if newest >= 0 { slots[newest].newer = position }
        newest = position
        if oldest < 0 { oldest = position }
        index[key] = position
        statistics.entries += 1
        statistics.bytes += size
    }

    private mutating func moveToFront(_ position: Int) {
        guard position != newest else { return }
        unlink(position)
        slots[position].older = newest
        slots[position].newer = -1
        if newest >= 0 { slots[newest].newer = position }
        newest = position
        if oldest < 0 { oldest = position }
    }

    private mutating func remove(_ position: Int) {
        unlink(position)
        index[slots[position].key] = nil
        statistics.entries -= 1
        statistics.bytes -= slots[position].size
        slots[position].value = nil
        slots[position].key = ""
        free.append(position)
    }

    private mutating func unlink(_ position: Int) {
        let (newer, older) = (slots[position].newer, slots[position].older)
        if newer >= 0 { slots[newer].older = older } else { newest = older }
        if older >= 0 { slots[older].newer = newer } else { oldest = newer }
    }
}
