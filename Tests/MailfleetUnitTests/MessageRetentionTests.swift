import Foundation
import MailfleetCore
import Testing

@Suite struct MessageRetentionTests {
    let utc = TimeZone(identifier: "UTC")!
    func day(_ text: String) -> Date { LocalDateTime("\(text)T00:00")!.date(in: utc) }

    @Test func todayAndTheDaysAheadAreMadeWhenMissing() {
        let retention = MessageRetention(days: 30)
        let now = day("2026-12-02").addingTimeInterval(23 * 3600 + 59 * 60)
        #expect(retention.missing(existing: [], now: now) == ["2026-12-02", "2026-12-03", "2026-12-04", "2026-12-05"].map(day))
        #expect(retention.missing(existing: Set(["2026-12-02", "2026-12-04"].map(day)), now: now) == ["2026-12-03", "2026-12-05"].map(day))
        // Past midnight the window moves by a day.
        #expect(retention.missing(existing: Set(["2026-12-02", "2026-12-03", "2026-12-04", "2026-12-05"].map(day)), now: now.addingTimeInterval(60))
            == [day("2026-12-06")])
    }

    @Test func aDayExpiresWhenItsLastMessageIsOlderThanTheRetention() {
        let retention = MessageRetention(days: 2)
        let existing = Set(["2026-11-28", "2026-11-29", "2026-11-30", "2026-12-01"].map(day))
        // 2026-11-29's last message was made just before 11-30 00:00: it is two days old at 12-02 00:00.
        #expect(retention.expired(existing: existing, now: day("2026-12-02").addingTimeInterval(-1)) == [day("2026-11-28")])
        #expect(retention.expired(existing: existing, now: day("2026-12-02")) == ["2026-11-28", "2026-11-29"].map(day))
        #expect(MessageRetention(days: 30).expired(existing: existing, now: day("2026-12-02")).isEmpty)
    }

    @Test func aTenantMayShortenTheFleetsRetentionButNotLengthenIt() {
        let retention = MessageRetention(days: 30)
        #expect(retention.days(forTenant: nil) == 30)
        #expect(retention.days(forTenant: 7) == 7)
        #expect(retention.days(forTenant: 365) == 30)
        #expect(MessageRetention.cutoff(days: 7, now: day("2026-12-08")) == day("2026-12-01"))
    }

    @Test func partitionNamesReadBackAsTheirDayAndOnlyRealDatesRead() {
        for text in ["2026-12-02", "2024-02-29", "1999-12-31", "2039-09-07"] {
            let suffix = MessageRetention.suffix(of: day(text))
            #expect(suffix == text.replacingOccurrences(of: "-", with: ""))
            #expect(MessageRetention.day(suffix: suffix) == day(text))
        }
        #expect(MessageRetention.suffix(of: day("2026-12-02").addingTimeInterval(86_399)) == "20261202")
        for bad in ["20260230", "2026122", "202612021", "2026-1202", "before", "default", "2026120x"] {
            #expect(MessageRetention.day(suffix: bad) == nil, "\(bad)")
        }
    }

    @Test func aDaysBoundsHoldEveryIdMadeThatDayAndNoOther() {
        let start = day("2026-12-02")
        let low = MessageRetention.lowerBound(of: start), high = MessageRetention.lowerBound(of: MessageRetention.add(days: 1, to: start))
        #expect(low.lowercasedString == "01a2340d-0c00-0000-0000-000000000000")
        for offset in [0, 0.001, 43_200, 86_399.999] {
            let id = UUID.timeOrdered(at: start.addingTimeInterval(offset))
            #expect(low.lowercasedString <= id.lowercasedString && id.lowercasedString < high.lowercasedString)
        }
        #expect(UUID.timeOrdered(at: start.addingTimeInterval(-0.001)).lowercasedString < low.lowercasedString)
        #expect(UUID.timeOrdered(at: start.addingTimeInterval(86_400)).lowercasedString >= high.lowercasedString)
        #expect(MessageRetention.day(of: start.addingTimeInterval(86_399.9)) == start)
    }
}
