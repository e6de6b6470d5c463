import Foundation

/// A quota's period. Periods are UTC calendar days and months, the same for every tenant and
/// every process, so "today" never depends on a server's time zone.
public enum QuotaPeriod: String, Sendable, CaseIterable, Codable {
    /// A UTC calendar day.
    case daily
    /// A UTC calendar month.
    case monthly

    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// The start of the period holding `date`.
    public func start(of date: Date) -> Date {
        let parts = Self.utc.dateComponents(self == .daily ? [.year, .month, .day] : [.year, .month], from: date)
        return Self.utc.date(from: parts)!
    }

    /// The start of the next period: when usage of the period holding `date` resets.
    public func end(of date: Date) -> Date {
        Self.utc.date(byAdding: self == .daily ? .day : .month, value: 1, to: start(of: date))!
    }

    /// The period's first day as `YYYY-MM-DD` (its key in `tenant_usage`).
    public func key(of date: Date) -> String {
        let parts = Self.utc.dateComponents([.year, .month, .day], from: start(of: date))
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }
}
