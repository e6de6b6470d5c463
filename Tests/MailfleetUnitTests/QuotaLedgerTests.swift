import Foundation
import MailfleetCore
import Testing

/// Quota periods (UTC days and months, their boundaries and lengths) and `QuotaLedger`'s
/// whole-request decisions, on a clock the tests set.
@Suite struct QuotaLedgerTests {
    /// A UTC instant.
    func at(_ text: String) throws -> Date { try #require(ISO8601.parse(text)) }

    @Test func aDayRunsFromUTCMidnightToTheNext() throws {
        let late = try at("2026-03-14T23:59:59.999Z")
        #expect(QuotaPeriod.daily.start(of: late) == (try at("2026-03-14T00:00:00Z")))
        #expect(QuotaPeriod.daily.end(of: late) == (try at("2026-03-15T00:00:00Z")))
        #expect(QuotaPeriod.daily.key(of: late) == "2026-03-14")
        // The next instant is the next day.
        let midnight = try at("2026-03-15T00:00:00Z")
        #expect(QuotaPeriod.daily.key(of: midnight) == "2026-03-15")
        #expect(QuotaPeriod.daily.end(of: midnight) == (try at("2026-03-16T00:00:00Z")))
    }

    @Test func monthsHaveTheirOwnLengthsAndTheYearRollsOver() throws {
        let cases: [(String, String, String)] = [
            ("2027-02-10T12:00:00Z", "2027-02-01", "2027-03-01T00:00:00Z"),  // 28 days
            ("2028-02-29T23:00:00Z", "2028-02-01", "2028-03-01T00:00:00Z"),  // leap year, 29 days
            ("2026-04-30T23:59:59Z", "2026-04-01", "2026-05-01T00:00:00Z"),  // 30 days
            ("2026-01-31T00:00:00Z", "2026-01-01", "2026-02-01T00:00:00Z"),  // 31 days
            ("2026-12-31T23:59:59Z", "2026-12-01", "2027-01-01T00:00:00Z"),  // into the next year
        ]
        for (instant, key, end) in cases {
            let date = try at(instant)
            #expect(QuotaPeriod.monthly.key(of: date) == key, "\(instant)")
            #expect(QuotaPeriod.monthly.end(of: date) == (try at(end)), "\(instant)")
            #expect(QuotaPeriod.monthly.start(of: date) == (try at(key + "T00:00:00Z")), "\(instant)")
        }
        #expect(QuotaPeriod.daily.end(of: try at("2028-02-28T10:00:00Z")) == (try at("2028-02-29T00:00:00Z")))
    }

    @Test func requestsAreAdmittedWholeUpToTheLimitAndRefusedWholePastIt() throws {
        let now = try at("2026-06-10T08:00:00Z")
        var ledger = QuotaLedger(quota: TenantQuota(daily: 10), usedToday: 4, usedThisMonth: 40, now: now)
        let answer1 = ledger.admit(5)
        #expect(answer1 == nil)
        // 9 used: a request of 2 would make 11, so it is refused whole and counts nothing.
        let refused = ledger.admit(2)
        let refusal = try #require(refused)
        #expect(refusal == QuotaRefusal(period: .daily, limit: 10, used: 9, requested: 2, resetsAt: try at("2026-06-11T00:00:00Z")))
        #expect(refusal.retryAfterSeconds(from: now) == 16 * 3600)
        #expect(refusal.message.contains("9 of 10") && refusal.message.contains("holds 2"))
        // One more exactly reaches the limit; then nothing more fits.
        let answer2 = ledger.admit(1)
        #expect(answer2 == nil)
        let answer3 = ledger.admit(1)
        #expect(answer3?.used == 10)
        #expect(ledger.added == 6)
        #expect(ledger.usage(.daily) == QuotaUsage(period: .daily, limit: 10, used: 10, resetsAt: try at("2026-06-11T00:00:00Z")))
        #expect(ledger.usage(.monthly).used == 46 && ledger.usage(.monthly).limit == nil && ledger.usage(.monthly).remaining == nil)
        // An empty request (every message suppressed) is never refused.
        let answer4 = ledger.admit(0)
        #expect(answer4 == nil)
    }

    @Test func aPrefixTakesWhatTheQuotaLeavesAndTheRestWaitsForTheReset() throws {
        let now = try at("2026-06-10T08:00:00Z")
        var ledger = QuotaLedger(quota: TenantQuota(daily: 10), usedToday: 7, usedThisMonth: 7, now: now)
        // Three items of one message fit in the 3 left; the fourth and later wait for midnight.
        let answer = ledger.admitPrefix([1, 1, 0, 1, 1, 1])
        #expect(answer.admitted == 4 && ledger.added == 3 && ledger.remaining == 0)
        let midnight = try at("2026-06-11T00:00:00Z")
        #expect(answer.refusal?.period == .daily && answer.refusal?.resetsAt == midnight && answer.refusal?.requested == 2)
        // An item that does not fit stops the run: a later, smaller one does not jump the queue.
        var tight = QuotaLedger(quota: TenantQuota(daily: 2), usedToday: 0, usedThisMonth: 0, now: now)
        #expect(tight.admitPrefix([1, 5, 1]).admitted == 1 && tight.added == 1)
        // Everything fits, or the tenant has no quota: nothing is refused.
        var roomy = QuotaLedger(quota: TenantQuota(daily: 100), usedToday: 0, usedThisMonth: 0, now: now)
        let all = roomy.admitPrefix([1, 1, 1])
        #expect(all.admitted == 3 && all.refusal == nil && roomy.added == 3)
        var unlimited = QuotaLedger(quota: TenantQuota(), usedToday: 5_000, usedThisMonth: 5_000, now: now)
        #expect(unlimited.admitPrefix(Array(repeating: 1, count: 1_000)).admitted == 1_000)
    }

    @Test func theMonthlyLimitRefusesEvenWithRoomToday() throws {
        let now = try at("2026-06-30T22:00:00Z")
        var ledger = QuotaLedger(quota: TenantQuota(daily: 100, monthly: 1000), usedToday: 0, usedThisMonth: 999, now: now)
        let refused = ledger.admit(2)
        let refusal = try #require(refused)
        #expect(refusal.period == .monthly && refusal.limit == 1000 && refusal.used == 999)
        // Retry-After points at the month's end, which here is two hours away.
        #expect(refusal.retryAfterSeconds(from: now) == 7200)
        let answer5 = ledger.admit(1)
        #expect(answer5 == nil)
        #expect(ledger.usage(.monthly).remaining == 0 && ledger.usage(.daily).remaining == 99)
    }

    @Test func aRequestLargerThanTheWholeQuotaIsRefusedEvenWhenNothingIsUsed() throws {
        var ledger = QuotaLedger(quota: TenantQuota(daily: 3), usedToday: 0, usedThisMonth: 0, now: try at("2026-06-10T08:00:00Z"))
        let answer6 = ledger.admit(4)
        #expect(answer6?.requested == 4)
        #expect(ledger.added == 0)
    }

    @Test func anUnlimitedTenantIsAlwaysAdmittedAndCounted() throws {
        var ledger = QuotaLedger(quota: TenantQuota(), usedToday: 5, usedThisMonth: 5, now: try at("2026-06-10T08:00:00Z"))
        #expect(TenantQuota().isUnlimited)
        let answer7 = ledger.admit(1_000_000)
        #expect(answer7 == nil)
        #expect(ledger.usage(.daily).used == 1_000_005 && ledger.usage(.daily).level == nil)
    }

    @Test func levelsMarkTenantsNearAndAtTheirQuota() throws {
        let reset = try at("2026-06-11T00:00:00Z")
        #expect(QuotaUsage(period: .daily, limit: 100, used: 79, resetsAt: reset).level == nil)
        #expect(QuotaUsage(period: .daily, limit: 100, used: 80, resetsAt: reset).level == .near)
        #expect(QuotaUsage(period: .daily, limit: 100, used: 99, resetsAt: reset).level == .near)
        #expect(QuotaUsage(period: .daily, limit: 100, used: 100, resetsAt: reset).level == .reached)
        #expect(QuotaUsage(period: .daily, limit: 100, used: 100, resetsAt: reset).remaining == 0)
        #expect(QuotaUsage(period: .daily, limit: nil, used: 10_000, resetsAt: reset).level == nil)
    }
}
