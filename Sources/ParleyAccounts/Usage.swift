import Foundation
import ParleyCore

/// Tokens a user spent on one model on one day (UTC), through one of their keys or their sessions: the daily
/// roll-up behind the usage pages and the budgets. One row per user, day, key and model, so the table grows
/// with use, not with requests.
public struct UsageRecord: Sendable, Equatable {
    /// The UTC day, `YYYY-MM-DD`.
    public var day: String
    public var userID: UserID
    /// The key the requests came with; nil for the user's sessions (the web UI).
    public var keyID: UUID?
    public var model: String
    public var requests: Int
    public var promptTokens: Int
    public var completionTokens: Int

    public init(day: String, userID: UserID, keyID: UUID?, model: String, requests: Int, promptTokens: Int, completionTokens: Int) {
        self.day = day
        self.userID = userID
        self.keyID = keyID
        self.model = model
        self.requests = requests
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }

    public var totalTokens: Int { promptTokens + completionTokens }

    /// The UTC day of `date`, as stored.
    public static func day(of date: Date) -> String {
        let days = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
        return dayText(daysSince1970: days)
    }

    static func dayText(daysSince1970 days: Int) -> String {
        let date = CivilDate(daysSince1970: Int64(days))
        func padded(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return padded(date.year, 4) + "-" + padded(date.month, 2) + "-" + padded(date.day, 2)
    }
}

/// A user's or key's token budget period.
public enum BudgetPeriod: String, Sendable, CaseIterable {
    case day, month

    /// The period holding `date` (UTC): its first day as stored in usage rows, and its end. Arithmetic on day
    /// numbers, not Foundation's calendar: this runs on every budgeted call.
    public func span(of date: Date) -> (firstDay: String, end: Date) {
        let today = Int64((date.timeIntervalSince1970 / 86_400).rounded(.down))
        let first: Int64
        let end: Int64
        switch self {
        case .day:
            (first, end) = (today, today + 1)
        case .month:
            let civil = CivilDate(daysSince1970: today)
            let start = CivilDate(year: civil.year, month: civil.month, day: 1)
            (first, end) = (start.daysSince1970, start.nextMonth.daysSince1970)
        }
        return (UsageRecord.dayText(daysSince1970: Int(first)), Date(timeIntervalSince1970: Double(end) * 86_400))
    }
}
