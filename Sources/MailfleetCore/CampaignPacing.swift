import Foundation

/// A campaign's `per_hour` cap over a rolling hour: how many recipients the runner may expand
/// now, from what it expanded in the last hour (counts per minute, at most 60 buckets, so the
/// record stays small however large the campaign). A minute counts in full until the hour
/// after its last second has passed (61 buckets), so the cap is never passed; it may expand up
/// to a minute late.
public struct CampaignPacing: Sendable, Hashable, Codable {
    /// Recipients expanded per minute (minute = seconds since 1970 / 60), oldest first.
    public private(set) var minutes: [Minute]

    /// Recipients expanded in one minute.
    public struct Minute: Sendable, Hashable, Codable {
        /// Minutes since 1970.
        public var minute: Int64
        /// Recipients expanded in it.
        public var count: Int
    }

    /// An empty record.
    public init(minutes: [Minute] = []) {
        self.minutes = minutes
    }

    static func minute(of date: Date) -> Int64 { Int64((date.timeIntervalSince1970 / 60).rounded(.down)) }

    /// Minutes still counted at minute `current`: the last 61, so an expansion late in a minute
    /// still counts a whole hour after it.
    static func counted(_ minute: Int64, at current: Int64) -> Bool { minute >= current - 60 }

    /// Recipients expanded in the rolling hour ending at `now` (with up to a minute more).
    public func used(at now: Date) -> Int {
        let current = Self.minute(of: now)
        return minutes.filter { Self.counted($0.minute, at: current) }.reduce(0) { $0 + $1.count }
    }

    /// How many may be expanded at `now` under `perHour` (nil: no cap, `Int.max`).
    public func allowance(perHour: Int?, at now: Date) -> Int {
        guard let perHour else { return Int.max }
        return max(0, perHour - used(at: now))
    }

    /// When some of the cap is free again, for a campaign that used it all: when its oldest
    /// minute still counted stops counting.
    public func nextFree(at now: Date) -> Date {
        let current = Self.minute(of: now)
        let oldest = minutes.first { Self.counted($0.minute, at: current) }?.minute ?? current
        return Date(timeIntervalSince1970: Double(oldest + 61) * 60)
    }

    /// Records `count` expanded at `now` and forgets minutes outside the hour.
    public mutating func record(_ count: Int, at now: Date) {
        let current = Self.minute(of: now)
        minutes.removeAll { !Self.counted($0.minute, at: current) }
        guard count > 0 else { return }
        if minutes.last?.minute == current {
            minutes[minutes.count - 1].count += count
        } else {
            minutes.append(Minute(minute: current, count: count))
        }
    }
}
