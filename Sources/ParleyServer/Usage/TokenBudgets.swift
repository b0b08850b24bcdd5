import Foundation
import ParleyAccounts
import ParleyCore
import ParleyGateway
import Synchronization

/// A call's draw on its caller's token budgets, to settle when the call is over.
struct BudgetCharge: Sendable {
    let user: UserID
    let key: UUID?
    let charges: [AllowanceCharge]
    let reserved: Int
}

/// Why a call was refused: a budget is spent until its period ends.
struct BudgetRefusal: Error, Sendable, CustomStringConvertible {
    let whose: String
    let budget: Int
    let spent: Int
    let period: BudgetPeriod
    let resetsAt: Date

    var description: String {
        "the \(whose) token budget of \(budget) per \(period.rawValue) is spent (\(spent) used); it renews at \(ISO8601.string(resetsAt))"
    }
}

/// Users' and keys' token budgets per day or month. Before a call its estimate (prompt and the most it may
/// answer) is charged against the user's allowance and the key's, all or nothing — on Redis, atomically for
/// every replica; after it, the charge is settled with what the answer really used. A counter nobody keeps yet
/// (a new period, a restarted server) starts from the usage stored in the database, so a restart does not
/// reset what was spent.
struct TokenBudgets: Sendable {
    let limiter: any RateLimiter
    let store: any AccountStore
    /// Each user's budget unless theirs is set; nil: none.
    let defaultBudget: Int?
    let period: BudgetPeriod
    private let seeded = SeededAllowances()

    init(limiter: any RateLimiter, store: any AccountStore, defaultBudget: Int?, period: BudgetPeriod) {
        self.limiter = limiter
        self.store = store
        self.defaultBudget = defaultBudget
        self.period = period
    }

    /// The user's budget per period, if any.
    func budget(of user: User) -> Int? { user.tokenBudget ?? defaultBudget }

    /// Charges `tokens` to the principal's budgets; nil when neither has one. Throws ``BudgetRefusal`` when one
    /// has not the room.
    func charge(_ principal: Principal, tokens: Int, now: Date = Date()) async throws -> BudgetCharge? {
        let key: APIKeyRecord? = if case .key(let record) = principal.credential { record } else { nil }
        return try await charge(principal.user, key: key, tokens: tokens, now: now)
    }

    /// Charges `tokens` to a user's budget and, when the call came with one, their key's.
    func charge(_ user: User, key: APIKeyRecord?, tokens: Int, now: Date = Date()) async throws -> BudgetCharge? {
        let userBudget = budget(of: user)
        guard userBudget != nil || key?.tokenBudget != nil else { return nil }
        let (firstDay, end) = period.span(of: now)
        let resetsAt = Int64(end.timeIntervalSince1970)
        var charges: [(AllowanceCharge, whose: String, keyID: UUID?)] = []
        if let userBudget {
            charges.append((AllowanceCharge(key: "user:\(user.id):\(firstDay)", amount: tokens, limit: userBudget,
                                            resetsAt: resetsAt), "account's", nil))
        }
        if let key, let keyBudget = key.tokenBudget {
            charges.append((AllowanceCharge(key: "key:\(key.id.lowercased):\(firstDay)", amount: tokens, limit: keyBudget,
                                            resetsAt: resetsAt), "API key's", key.id))
        }
        for (charge, _, keyID) in charges where seeded.claim(charge.key) {
            do {
                var seed = charge
                seed.amount = try await store.spentTokens(userID: user.id, keyID: keyID, from: firstDay)
                try await limiter.seedSpent(seed)
            } catch {
                seeded.release(charge.key)
                throw error
            }
        }
        let verdict = try await limiter.spend(charges.map(\.0))
        guard verdict.allowed else {
            let index = charges.indices.first { charges[$0].0.amount + verdict.spent[$0] > charges[$0].0.limit } ?? 0
            throw BudgetRefusal(whose: charges[index].whose, budget: charges[index].0.limit, spent: verdict.spent[index],
                                period: period, resetsAt: end)
        }
        return BudgetCharge(user: user.id, key: key?.id, charges: charges.map(\.0), reserved: tokens)
    }

    /// Replaces the reservation with what was used (nil: unknown, the reservation stands). Never throws.
    func settle(_ charge: BudgetCharge, used: Int?) async {
        guard let used, used != charge.reserved else { return }
        for var allowance in charge.charges {
            allowance.amount = used - charge.reserved
            try? await limiter.adjustSpent(allowance)
        }
    }

    /// What the user has spent this period and when it renews, for the usage page.
    func state(of user: User, now: Date = Date()) async throws -> (budget: Int?, spent: Int, resetsAt: Date) {
        let (firstDay, end) = period.span(of: now)
        return (budget(of: user), try await store.spentTokens(userID: user.id, keyID: nil, from: firstDay), end)
    }
}

extension TokenBudgets {
    /// Budgets an administrator or a key may set: zero (no model calls) up to about a trillion tokens.
    static let allowedBudgets = 0...1_000_000_000_000

    /// Checks a budget from a request body.
    static func validated(_ budget: Int?, param: String = "token_budget") throws -> Int? {
        guard let budget else { return nil }
        guard allowedBudgets.contains(budget) else {
            throw ClientError.invalid("'\(param)' must be a number of tokens from 0 to \(allowedBudgets.upperBound)", param: param)
        }
        return budget
    }
}

/// The allowance counters this process has started from the database already (once per counter and period).
private final class SeededAllowances: Sendable {
    private let keys = Mutex<Set<String>>([])

    /// True the first time `key` is seen: the caller seeds it.
    func claim(_ key: String) -> Bool {
        keys.withLock { keys in
            if keys.count > 100_000 { keys.removeAll() }
            return keys.insert(key).inserted
        }
    }

    /// Seeding failed: the next call tries again.
    func release(_ key: String) {
        _ = keys.withLock { $0.remove(key) }
    }
}
