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
        // Civil-from-days (Howard Hinnant's algorithm): no calendar or formatter on the hot path.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return String(format: "%04d-%02d-%02d", year, month, day)
    }
}

/// A user's or key's token budget period.
public enum BudgetPeriod: String, Sendable, CaseIterable {
    case day, month

    /// The period holding `date` (UTC): its first day as stored in usage rows, and its end.
    public func span(of date: Date) -> (firstDay: String, end: Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start: Date
        let end: Date
        switch self {
        case .day:
            start = calendar.startOfDay(for: date)
            end = calendar.date(byAdding: .day, value: 1, to: start)!
        case .month:
            start = calendar.date(from: calendar.dateComponents([.year, .month], from: date))!
            end = calendar.date(byAdding: .month, value: 1, to: start)!
        }
        return (UsageRecord.day(of: start), end)
    }
}
