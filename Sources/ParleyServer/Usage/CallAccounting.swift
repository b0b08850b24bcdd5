import Foundation
import ParleyAccounts
import ParleyCore
import ParleyGateway
import Tracing

/// Everything a model call counts against and is recorded in: the rate limits (per caller and per model), the
/// signed-in user's token budgets (theirs and their key's), the usage roll-up, the metrics and the call's span.
/// ``admit(_:model:promptTokens:maxTokens:stream:operation:)`` before the call; ``settle(_:model:_:outcome:timeToFirstToken:)``
/// once after it, however it ended.
struct CallAccounting: Sendable {
    let limiter: RequestLimiter
    let budgets: TokenBudgets
    let usage: UsageRecorder
    let metrics: CallMetrics
    /// While the replica shuts down, new calls are refused (503, retry elsewhere).
    let drain: Drain

    /// What a call was admitted with.
    struct Ticket: Sendable {
        let admission: Admission
        let budget: BudgetCharge?
        let user: UserID?
        let key: UUID?
        /// The prompt's estimate, recorded when the answer reports no usage.
        let promptEstimate: Int
        /// `chat` or `embeddings` (OpenTelemetry's `gen_ai.operation.name`).
        let operation: String
        let started = ContinuousClock.now
        /// The call's span while tracing is on (``CallSpan``): what the call does runs ``within(_:)`` it.
        let span: (any Span)?

        /// Runs `body` with the call's span current, so that its upstream attempts and database calls are children.
        func within<T>(_ body: () async throws -> T) async rethrows -> T {
            try await Traces.within(span, body)
        }
    }

    /// Checks the limits and charges the budgets; throws ``LimitRefusal`` or ``BudgetRefusal`` (429s), or a
    /// ``ParleyError`` when a shared backend that fails closed is down.
    ///
    /// `payer` is whose budget pays and whose usage it is when that is not the caller's: a published assistant's
    /// owner pays for its visitors' questions (the limits stay the caller's).
    func admit(_ context: ParleyRequestContext, model: String?, promptTokens: Int, maxTokens: Int?, stream: Bool,
               operation: String = "chat", payer: User? = nil) async throws -> Ticket {
        if drain.isDraining { throw Drain.refusal }
        let admission: Admission
        do {
            admission = try await limiter.admit(principal: context.caller, model: model, promptTokens: promptTokens,
                                                maxTokens: maxTokens, stream: stream)
        } catch let refusal as LimitRefusal {
            metrics.refused(refusal.limitKind)
            throw refusal
        }
        let principal = context.account
        var budget: BudgetCharge?
        if principal != nil || payer != nil {
            let tokens = promptTokens + (maxTokens ?? limiter.settings.defaultCompletionTokens)
            do {
                if let payer {
                    budget = try await budgets.charge(payer, key: nil, tokens: tokens)
                } else if let principal {
                    budget = try await budgets.charge(principal, tokens: tokens)
                }
            } catch {
                if error is BudgetRefusal { metrics.refused("budget") }
                await limiter.settle(admission, usedTokens: 0)
                throw error
            }
        }
        let key: UUID? = if payer == nil, case .key(let record)? = principal?.credential { record.id } else { nil }
        return Ticket(admission: admission, budget: budget, user: payer?.id ?? principal?.user.id, key: key, promptEstimate: promptTokens,
                      operation: operation, span: CallSpan.start(operation: operation, model: model))
    }

    /// What a call turned out to cost.
    enum Spent: Sendable {
        /// The answer reported its usage.
        case reported(TokenUsage)
        /// Nothing: it failed before answering, or was replayed from the cache.
        case nothing
        /// It answered without a report: about `completion` tokens (one per streamed chunk) after the prompt's
        /// estimate. The reservations stand; the estimate is recorded.
        case unknown(completion: Int)
    }

    /// Settles the limits and budgets with what the call used, records it for the user, and in the metrics
    /// (`timeToFirstToken`: since the ticket was issued, when the answer streamed).
    func settle(_ ticket: Ticket, model: String, _ spent: Spent, outcome: AnswerOutcome, timeToFirstToken: Duration? = nil) async {
        let settled: Int?
        let recorded: TokenUsage?
        switch spent {
        case .reported(let usage): (settled, recorded) = (usage.totalTokens, usage)
        case .nothing: (settled, recorded) = (0, nil)
        case .unknown(let completion): (settled, recorded) = (nil, TokenUsage(promptTokens: ticket.promptEstimate, completionTokens: completion))
        }
        metrics.record(operation: ticket.operation, model: model, outcome: outcome, started: ticket.started,
                       timeToFirstToken: timeToFirstToken, usage: recorded)
        CallSpan.end(ticket.span, model: model, outcome: outcome, timeToFirstToken: timeToFirstToken, usage: recorded)
        await limiter.settle(ticket.admission, usedTokens: settled)
        if let budget = ticket.budget { await budgets.settle(budget, used: settled) }
        guard let user = ticket.user, let recorded, recorded.totalTokens > 0 else { return }
        usage.record(user: user, key: ticket.key, model: model, usage: recorded)
    }

    /// The user's usage over the last `days` days (today included) and their budget for this period, exact to
    /// the last finished answer (what this replica counted is written first).
    func report(for user: User, days: Int, now: Date = Date()) async throws -> API.Usage {
        await usage.flush()
        let (budget, spent, resetsAt) = try await budgets.state(of: user, now: now)
        let firstDay = UsageRecord.day(of: now.addingTimeInterval(-Double(days - 1) * 86_400))
        let rows = try await budgets.store.usage(userID: user.id, from: firstDay)
        return API.Usage(period: budgets.period.rawValue, budget: budget, spent: spent, resetsAt: ISO8601.string(resetsAt),
                         data: rows.map(API.UsageRow.init))
    }
}
