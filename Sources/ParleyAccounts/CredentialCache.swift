import Foundation
import ParleyCore
import Synchronization

/// Recently checked sessions and keys, by the digest of their token, so a busy client costs one hash and one
/// dictionary lookup per request instead of a database read. An entry lives ``ttl`` at most: a change made on
/// another replica (a role, a revoked key) takes effect there within that time; on this replica every change
/// goes through ``Accounts``, which forgets the user's entries at once.
final class CredentialCache: Sendable {
    let ttl: Duration
    let capacity: Int
    private let entries = Mutex<[String: (principal: Principal, until: ContinuousClock.Instant)]>([:])

    init(ttl: Duration, capacity: Int = 10_000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    func principal(for digest: String) -> Principal? {
        guard ttl > .zero else { return nil }
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let entry = entries[digest] else { return nil }
            guard entry.until > now else {
                entries[digest] = nil
                return nil
            }
            return entry.principal
        }
    }

    func store(_ principal: Principal, for digest: String) {
        guard ttl > .zero else { return }
        let until = ContinuousClock.now + ttl
        entries.withLock { entries in
            // Bounded: at capacity, everything goes (entries are cheap to reload and short-lived anyway).
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[digest] = (principal, until)
        }
    }

    func forget(digest: String) {
        _ = entries.withLock { $0.removeValue(forKey: digest) }
    }

    /// Forgets every credential of the user.
    func forget(user: UserID) {
        entries.withLock { entries in entries = entries.filter { $0.value.principal.user.id != user } }
    }
}
