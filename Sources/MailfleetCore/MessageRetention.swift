import Foundation

/// How long messages (and their events) are kept, and which day partitions of `messages` and
/// `events` to make and to drop. Both tables are partitioned by the UTC day of the message's
/// UUIDv7 id (docs/ARCHITECTURE.md, "Partitions and retention"): a day's rows go together when
/// the youngest of them is older than the retention. Pure: the scheduler's leader asks it, then
/// does what it says (`RetentionStore`).
public struct MessageRetention: Sendable, Equatable {
    /// Days made ahead of today, so a day's partition exists before its first message.
    public static let daysAhead = 3

    /// The fleet's retention in days (`MAILFLEET_MESSAGE_RETENTION_DAYS`): the longest any
    /// message is kept.
    public let days: Int

    /// A retention of `days` days (at least 1).
    public init(days: Int) {
        precondition(days >= 1, "a retention is at least one day")
        self.days = days
    }

    /// The days a tenant's messages are kept: its own setting when shorter than the fleet's.
    /// A longer one cannot be honoured without keeping every tenant's partitions longer, so the
    /// fleet's caps it.
    public func days(forTenant override: Int?) -> Int {
        min(override ?? days, days)
    }

    /// The UTC days that should have partitions now and do not: today and `daysAhead` after it.
    public func missing(existing: Set<Date>, now: Date) -> [Date] {
        let today = Self.day(of: now)
        return (0...Self.daysAhead).map { Self.add(days: $0, to: today) }.filter { !existing.contains($0) }
    }

    /// The days among `existing` whose every message is older than the retention: the day
    /// ended `days` days ago or more. Oldest first.
    public func expired(existing: Set<Date>, now: Date) -> [Date] {
        existing.filter { Self.add(days: days + 1, to: $0) <= now }.sorted()
    }

    /// The time before which a message made is past a retention of `days` days.
    public static func cutoff(days: Int, now: Date) -> Date {
        now.addingTimeInterval(-Double(days) * 86_400)
    }

    // MARK: Days and their names

    /// The UTC midnight starting the day `date` falls in.
    public static func day(of date: Date) -> Date {
        QuotaPeriod.daily.start(of: date)
    }

    /// `day` moved by `count` days.
    public static func add(days count: Int, to day: Date) -> Date {
        day.addingTimeInterval(Double(count) * 86_400)
    }

    /// The suffix of a day's partition names, `YYYYMMDD` (`messages_20261202`).
    public static func suffix(of day: Date) -> String {
        QuotaPeriod.daily.key(of: day).replacingOccurrences(of: "-", with: "")
    }

    /// The day a partition name's suffix names, nil when it is not `YYYYMMDD` of a real date.
    public static func day(suffix: String) -> Date? {
        guard suffix.count == 8 else { return nil }
        let (y, m, d) = (suffix.prefix(4), suffix.dropFirst(4).prefix(2), suffix.suffix(2))
        return LocalDateTime("\(y)-\(m)-\(d)T00:00")?.date(in: TimeZone(identifier: "UTC")!)
    }

    /// The first UUIDv7 of `day`: its 48-bit millisecond time, every other bit zero. A day's
    /// partitions hold the ids from its bound to the next day's (the SQL twin is
    /// `mailfleet_day_bound`).
    public static func lowerBound(of day: Date) -> UUID {
        UUID(bytes: UUID.timePrefix(day))
    }
}
