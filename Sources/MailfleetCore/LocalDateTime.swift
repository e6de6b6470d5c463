import Foundation

/// A wall-clock date and time with no zone (`2026-03-01T09:00:00`), as a campaign's local send
/// time is given; `date(in:)` places it in a time zone.
public struct LocalDateTime: Sendable, Hashable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int

    /// Reads `YYYY-MM-DDTHH:MM[:SS]`; nil for anything else, an offset or a zone included, or
    /// a date that does not exist (February 30th).
    public init?(_ text: String) {
        let parts = text.split(separator: "T", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let date = parts[0].split(separator: "-", omittingEmptySubsequences: false)
        let time = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        guard date.count == 3, date[0].count == 4, date[1].count == 2, date[2].count == 2, time.count == 2 || time.count == 3,
              time.allSatisfy({ $0.count == 2 }), (date + time).allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else { return nil }
        let numbers = (date + time).map { Int($0)! }
        year = numbers[0]
        month = numbers[1]
        day = numbers[2]
        hour = numbers[3]
        minute = numbers[4]
        second = numbers.count > 5 ? numbers[5] : 0
        guard (1...12).contains(month), (1...Self.days(inMonth: month, year: year)).contains(day), (0...23).contains(hour),
              (0...59).contains(minute), (0...59).contains(second) else { return nil }
    }

    /// `YYYY-MM-DDTHH:MM:SS`.
    public var text: String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(hour)):\(two(minute)):\(two(second))"
    }

    /// The instant this wall time names in `zone`. A time that does not exist there (skipped by
    /// a spring-forward change) moves forward by the gap, as clocks do (02:30 on a night that
    /// jumps from 02:00 to 03:00 is 03:30); a time that exists twice (a fall-back change) is the
    /// first of the two.
    public func date(in zone: TimeZone) -> Date {
        let asUTC = utcSeconds
        // The offsets in force a day either side; a zone changes offset at most once in between.
        let before = zone.secondsFromGMT(for: Date(timeIntervalSince1970: asUTC - 86_400))
        let after = zone.secondsFromGMT(for: Date(timeIntervalSince1970: asUTC + 86_400))
        let valid = [before, after].map { asUTC - Double($0) }.filter { zone.secondsFromGMT(for: Date(timeIntervalSince1970: $0)) == Int(asUTC - $0) }
        if let first = valid.min() { return Date(timeIntervalSince1970: first) }
        // In the gap: read with the offset before the change, which lands after it.
        return Date(timeIntervalSince1970: asUTC - Double(before))
    }

    /// Seconds since 1970 if this wall time were UTC (days from civil, proleptic Gregorian).
    var utcSeconds: Double {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Double(days * 86_400 + hour * 3600 + minute * 60 + second)
    }

    static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
