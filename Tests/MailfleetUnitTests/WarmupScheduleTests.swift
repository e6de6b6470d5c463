import Foundation
import MailfleetCore
import Testing

@Suite struct WarmupScheduleTests {
    /// A controllable clock: UTC noon of a day `n` days after the start.
    static let start = ISO8601.parse("2026-03-01T00:00:00Z")!
    static func at(day: Int, hour: Int = 12) -> Date { start.addingTimeInterval(Double(day - 1) * 86_400 + Double(hour) * 3_600) }

    @Test func theDefaultRampGrowsByDayAndEndsWarm() {
        let schedule = WarmupSchedule()
        #expect(schedule.dailyCaps == WarmupSchedule.defaultCaps)
        #expect(schedule.cap(at: Self.at(day: 1), startedOn: Self.start) == 50)
        #expect(schedule.cap(at: Self.at(day: 2, hour: 0), startedOn: Self.start) == 100)
        #expect(schedule.cap(at: Self.at(day: 1, hour: 23).addingTimeInterval(3_599), startedOn: Self.start) == 50)
        #expect(schedule.cap(at: Self.at(day: 3), startedOn: Self.start) == 500)
        #expect(schedule.cap(at: Self.at(day: 15), startedOn: Self.start) == 1_000_000)
        #expect(schedule.cap(at: Self.at(day: 16), startedOn: Self.start) == nil)
        // Before its first day a warm-up sends nothing.
        #expect(schedule.cap(at: Self.at(day: 0), startedOn: Self.start) == 0)
    }

    @Test func daysAreUTCAndTomorrowStartsAtMidnight() {
        let late = ISO8601.parse("2026-03-04T23:59:59Z")!
        #expect(WarmupSchedule.day(of: late, startedOn: Self.start) == 4)
        #expect(WarmupSchedule.nextDay(after: late) == ISO8601.parse("2026-03-05T00:00:00Z")!)
        #expect(WarmupSchedule.dateText(late) == "2026-03-04")
        #expect(WarmupSchedule.dayNumber(ISO8601.parse("1970-01-02T00:00:00Z")!) == 1)
    }

    @Test func schedulesReadFromTextMustGrow() {
        #expect(WarmupSchedule(text: "10, 20,20,40")?.dailyCaps == [10, 20, 20, 40])
        #expect(WarmupSchedule(text: "20,10") == nil)
        #expect(WarmupSchedule(text: "0,10") == nil)
        #expect(WarmupSchedule(text: "10,,20") == nil)
        #expect(WarmupSchedule(text: "ten") == nil)
        #expect(WarmupSchedule(text: "") == nil)
    }

    @Test func progressSaysTodaysDayCapAndCount() {
        let progress = WarmupProgress(
            domain: "news.example", startedOn: Self.start, schedule: WarmupSchedule(dailyCaps: [5, 10]), sentToday: 3, now: Self.at(day: 2))
        #expect(progress.day == 2 && progress.capToday == 10 && progress.sentToday == 3 && !progress.complete)
        #expect(progress.startedOn == "2026-03-01" && !progress.defaultSchedule && progress.days == 2)
        #expect(progress.resetsAt == "2026-03-03T00:00:00.000Z")
        let warm = WarmupProgress(domain: "d", startedOn: Self.start, schedule: WarmupSchedule(), sentToday: nil, now: Self.at(day: 40))
        #expect(warm.complete && warm.capToday == nil && warm.defaultSchedule)
    }
}

/// Transactional mail under warm-up: counted, never held; bulk is held to today's cap.
@Suite struct WarmupLaneTests {
    @Test func transactionalMailIsCountedButNeverCappedAndBulkIsCapped() {
        let schedule = WarmupSchedule(dailyCaps: [5, 10])
        let start = WarmupScheduleTests.start
        #expect(schedule.reservationCap(for: .bulk, at: WarmupScheduleTests.at(day: 1), startedOn: start) == 5)
        #expect(schedule.reservationCap(for: .bulk, at: WarmupScheduleTests.at(day: 2), startedOn: start) == 10)
        #expect(schedule.reservationCap(for: .transactional, at: WarmupScheduleTests.at(day: 1), startedOn: start) == WarmupSchedule.uncapped)
        // Before its first day bulk sends nothing; a password reset still goes (and is counted).
        #expect(schedule.reservationCap(for: .bulk, at: WarmupScheduleTests.at(day: 0), startedOn: start) == 0)
        #expect(schedule.reservationCap(for: .transactional, at: WarmupScheduleTests.at(day: 0), startedOn: start) == WarmupSchedule.uncapped)
        // Warm: neither lane is counted any more.
        #expect(schedule.reservationCap(for: .bulk, at: WarmupScheduleTests.at(day: 3), startedOn: start) == nil)
        #expect(schedule.reservationCap(for: .transactional, at: WarmupScheduleTests.at(day: 3), startedOn: start) == nil)
    }
}
