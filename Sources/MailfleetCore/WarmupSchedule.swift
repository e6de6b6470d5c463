import Foundation

/// A sending domain's warm-up: a daily cap that grows by day since the warm-up started (UTC
/// days: day 1 is the start date), and no cap once the schedule has run out. Days are UTC, so
/// every worker agrees on when tomorrow begins.
public struct WarmupSchedule: Sendable, Equatable {
    /// The cap of each day, day 1 first.
    public var dailyCaps: [Int]

    /// The default ramp: SendGrid's recommended IP warm-up schedule for its first fifteen days
    /// (docs.sendgrid.com/ui/sending-email/warming-up-an-ip-address, "IP Warmup Schedule"),
    /// which Mailgun's and Postmark's guides resemble: 50, 100, 500, 1,000, 5,000, 10,000,
    /// 20,000, 40,000, 70,000, 100,000, 150,000, 250,000, 400,000, 600,000, 1,000,000.
    public static let defaultCaps = [50, 100, 500, 1_000, 5_000, 10_000, 20_000, 40_000, 70_000, 100_000, 150_000, 250_000, 400_000, 600_000, 1_000_000]

    /// The most days a schedule may have.
    public static let maxDays = 366

    /// Creates a schedule; empty means the default ramp.
    public init(dailyCaps: [Int] = []) {
        self.dailyCaps = dailyCaps.isEmpty ? Self.defaultCaps : dailyCaps
    }

    /// Reads `50,100,500`: whole numbers of at least 1 that never shrink; nil otherwise.
    public init?(text: String) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let caps = parts.compactMap { Int($0) }
        guard !caps.isEmpty, caps.count == parts.count, caps.count <= Self.maxDays, Self.isValid(caps) else { return nil }
        self.dailyCaps = caps
    }

    /// True when every cap is at least 1 and none is smaller than the day before's.
    public static func isValid(_ caps: [Int]) -> Bool {
        guard let first = caps.first, first >= 1 else { return false }
        return zip(caps, caps.dropFirst()).allSatisfy { $0 <= $1 }
    }

    /// The warm-up day of `date` (1 on `startedOn`'s UTC day; 0 or less before it).
    public static func day(of date: Date, startedOn: Date) -> Int {
        (Self.dayNumber(date) - Self.dayNumber(startedOn)) + 1
    }

    /// The cap of warm-up day `day`: nil once the schedule has run out (warm), 0 before it starts.
    public func cap(day: Int) -> Int? {
        if day < 1 { return 0 }
        return day <= dailyCaps.count ? dailyCaps[day - 1] : nil
    }

    /// The cap in force at `date` for a warm-up that started on `startedOn`.
    public func cap(at date: Date, startedOn: Date) -> Int? { cap(day: Self.day(of: date, startedOn: startedOn)) }

    /// Days since 1970-01-01, UTC: the counter's key, so a new day starts a new count.
    public static func dayNumber(_ date: Date) -> Int { Int((date.timeIntervalSince1970 / 86_400).rounded(.down)) }

    /// The start of the next UTC day after `date`: when messages over today's cap may go.
    public static func nextDay(after date: Date) -> Date { Date(timeIntervalSince1970: Double(dayNumber(date) + 1) * 86_400) }

    /// The UTC calendar date of `date`, `yyyy-MM-dd`.
    public static func dateText(_ date: Date) -> String {
        String(ISO8601.format(Date(timeIntervalSince1970: Double(dayNumber(date)) * 86_400)).prefix(10))
    }
}

/// One sending domain's warm-up as the API and CLI show it.
public struct WarmupProgress: Sendable, Equatable, Codable {
    /// The From domain warming up.
    public var domain: String
    /// The first day (UTC), `yyyy-MM-dd`.
    public var startedOn: String
    /// Today's warm-up day (1 on the first).
    public var day: Int
    /// Today's cap; nil once the schedule has run out.
    public var capToday: Int?
    /// Messages sent today (UTC) from the domain, as the fleet counted them; nil when Redis could not be read.
    public var sentToday: Int?
    /// True once the schedule has run out: no cap any more.
    public var complete: Bool
    /// Days in the schedule.
    public var days: Int
    /// Whether the schedule is the default ramp.
    public var defaultSchedule: Bool
    /// When today's count ends (the next UTC midnight), ISO 8601.
    public var resetsAt: String

    enum CodingKeys: String, CodingKey {
        case domain, day, complete, days
        case startedOn = "started_on", capToday = "cap_today", sentToday = "sent_today", defaultSchedule = "default_schedule"
        case resetsAt = "resets_at"
    }

    /// The progress of a warm-up that started on `startedOn` with `schedule`, at `now`, with `sentToday` counted.
    public init(domain: String, startedOn: Date, schedule: WarmupSchedule, sentToday: Int?, now: Date) {
        self.domain = domain
        self.startedOn = WarmupSchedule.dateText(startedOn)
        day = WarmupSchedule.day(of: now, startedOn: startedOn)
        capToday = schedule.cap(day: day)
        self.sentToday = sentToday
        complete = capToday == nil
        days = schedule.dailyCaps.count
        defaultSchedule = schedule.dailyCaps == WarmupSchedule.defaultCaps
        resetsAt = ISO8601.format(WarmupSchedule.nextDay(after: now))
    }
}
