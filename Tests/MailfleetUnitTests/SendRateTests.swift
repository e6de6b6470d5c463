import Foundation
import MailfleetCore
import Testing

@Suite struct SendRateTests {
    @Test func aQuietBucketGrantsItsBurstThenOneTokenPerInterval() {
        let rate = SendRate(perSecond: 200, burst: 50)
        #expect(rate.intervalUs == 5_000)
        let now = 1_764_000_000_000_000
        let first = rate.take(80, nowUs: now, tatUs: nil)
        #expect(first.admitted == 50)
        #expect(first.tatUs == now + 50 * 5_000)
        // The next token is one interval away.
        #expect(first.nextFreeUs == 5_000)
        let none = rate.take(10, nowUs: now + 4_999, tatUs: first.tatUs)
        #expect(none.admitted == 0 && none.nextFreeUs == 1)
        let one = rate.take(10, nowUs: now + 5_000, tatUs: first.tatUs)
        #expect(one.admitted == 1)
        // A second later exactly 200 more have been admitted in all, whatever the asking.
        var tat = one.tatUs
        var admitted = 0
        var t = now + 5_000
        while t < now + 1_005_000 {
            let decision = rate.take(3, nowUs: t, tatUs: tat)
            admitted += decision.admitted
            tat = decision.tatUs
            t += 1_700
        }
        admitted += rate.take(3, nowUs: now + 1_005_000, tatUs: tat).admitted
        #expect(admitted == 200)
    }

    @Test func askingForAllAtOnceAdmitsWhatIsFreeAndSaysWhenTheNextIs() {
        let rate = SendRate(perSecond: 4, burst: 2)
        let decision = rate.take(10, nowUs: 0, tatUs: 1_000_000)
        // TAT a second ahead with a tolerance of half a second: nothing until it is back within.
        #expect(decision.admitted == 0)
        #expect(decision.nextFreeUs == 1_000_000 + 250_000 - 500_000)
        #expect(rate.take(0, nowUs: 0, tatUs: nil).admitted == 0)
    }

    @Test func givingBackMovesTheArrivalTimeBackButNeverBeforeNow() {
        let rate = SendRate(perSecond: 100)
        #expect(rate.giveBack(3, nowUs: 1_000, tatUs: 100_000) == 70_000)
        #expect(rate.giveBack(50, nowUs: 1_000, tatUs: 100_000) == 1_000)
        #expect(rate.giveBack(5, nowUs: 1_000, tatUs: nil) == 1_000)
        // Taking n then giving n back leaves the bucket as it was.
        let taken = rate.take(7, nowUs: 10_000, tatUs: 40_000)
        #expect(rate.giveBack(taken.admitted, nowUs: 10_000, tatUs: taken.tatUs) == 40_000)
    }

    @Test func heldTokensAreBookedAfterEarlierHoldsSoTheyWakeInTurn() {
        let rate = SendRate(perSecond: 100, burst: 1)
        // Ten asked, one admitted: nine booked after the TAT, the first due one interval on.
        let first = rate.take(10, nowUs: 0, tatUs: nil)
        #expect(first.admitted == 1 && first.nextFreeUs == 10_000 && first.heldWaitUs == 10_000)
        #expect(first.bookedUs == 10_000 + 9 * 10_000)
        // Another worker's five wait behind those nine, though the next token is as near.
        let second = rate.take(5, nowUs: 1_000, tatUs: first.tatUs, bookedUs: first.bookedUs)
        #expect(second.admitted == 0 && second.nextFreeUs == 9_000)
        #expect(second.heldWaitUs == 100_000 - 1_000)
        #expect(second.bookedUs == 150_000)
        // A booking that has passed counts for nothing.
        let later = rate.take(3, nowUs: 200_000, tatUs: second.tatUs, bookedUs: second.bookedUs)
        #expect(later.admitted == 1 && later.bookedUs == 210_000 + 2 * 10_000 && later.heldWaitUs == 10_000)
        #expect(rate.take(1, nowUs: 300_000, tatUs: nil, bookedUs: 250_000).bookedUs == 0)
    }

    @Test func theDefaultBurstIsAQuarterSecond() {
        #expect(SendRate(perSecond: 1000).burst == 250)
        #expect(SendRate(perSecond: 3).burst == 1)
        #expect(SendRate(perSecond: 0).perSecond == 1)
    }
}

@Suite struct MailboxProviderTests {
    @Test func domainsGroupByTheBuiltInTable() {
        let table: [String: MailboxProvider?] = [
            "gmail.com": .google, "GoogleMail.com": .google, "outlook.com": .microsoft, "hotmail.com": .microsoft,
            "hotmail.co.uk": .microsoft, "live.fr": .microsoft, "live.com.au": .microsoft, "msn.com": .microsoft,
            "yahoo.com": .yahoo, "yahoo.co.jp": .yahoo, "yahoo.com.br": .yahoo, "ymail.com": .yahoo, "aol.com": .yahoo,
            "icloud.com": .apple, "me.com": .apple, "mac.com": .apple,
            "example.com": nil, "gmail.example.com": nil, "mail.yahoo.example.org": nil, "live.example.org": nil, "corp.google.com": nil,
        ]
        for (domain, group) in table { #expect(MailboxProvider.of(domain: domain) == group, "\(domain)") }
    }

    @Test func accountSettingsOverrideTheTenantWhichOverridesTheDefault() {
        let account = AccountSendLimits(config: [
            "messages_per_second": "200", "calls_per_second": "unlimited", "mailbox_rate.google": "20", "mailbox_rate.yahoo": "unlimited",
            "domain": "mg.example.com",
        ])
        #expect(account.messagesPerSecond == 200)
        #expect(account.callsPerSecond == nil)
        let tenant = TenantSendLimits(messagesPerSecond: nil, mailboxRates: [.google: 5, .microsoft: 30, .apple: 0])
        #expect(tenant.mailboxRate(.google, account: account) == 20)
        #expect(tenant.mailboxRate(.microsoft, account: account) == 30)
        #expect(tenant.mailboxRate(.yahoo, account: account) == nil)
        #expect(tenant.mailboxRate(.apple, account: account) == nil)
        #expect(TenantSendLimits().mailboxRate(.apple, account: AccountSendLimits(config: [:])) == 50)
    }

    @Test func badLimitSettingsAreNamed() {
        #expect(AccountSendLimits.problems(in: ["messages_per_second": "10", "region": "eu", "mailbox_rate.google": "unlimited"]).isEmpty)
        let problems = AccountSendLimits.problems(in: ["messages_per_second": "0", "calls_per_second": "fast", "mailbox_rate.hotmail": "5"])
        #expect(problems.count == 3)
        #expect(problems.contains { $0.hasPrefix("mailbox_rate.hotmail: unknown mailbox provider") })
        #expect(problems.contains { $0.hasPrefix("messages_per_second=0") })
        // An empty value (removing the setting in an update) is fine.
        #expect(AccountSendLimits.problems(in: ["messages_per_second": ""]).isEmpty)
    }
}

@Suite struct SendAdmissionTests {
    let account = SendAdmission.Limit(reason: .accountRate, subject: "a", name: "account", intervalUs: 10_000)
    let google = SendAdmission.Limit(reason: .mailboxRate, subject: "g", name: "google", intervalUs: 100_000)

    @Test func aMessageGoesOnlyWithATokenFromEveryLimitItNeeds() {
        let ids = (0..<5).map { _ in UUID() }
        let needs: [(id: UUID, limits: [SendAdmission.Limit])] = [
            (ids[0], [account, google]), (ids[1], [account]), (ids[2], [account, google]), (ids[3], [account, google]), (ids[4], [account]),
        ]
        #expect(SendAdmission.wanted(needs) == [account: 5, google: 3])
        let decision = SendAdmission.decide(needs, grants: [
            account: .init(admitted: 4, nextFreeUs: 7_000), google: .init(admitted: 1, nextFreeUs: 50_000),
        ])
        #expect(decision.admitted == [ids[0], ids[1], ids[4]])
        // Held by google: their places in line spread their waits one interval apart.
        #expect(decision.held[ids[2]] == SendAdmission.Hold(limit: google, waitUs: 50_000, nextFreeUs: 50_000))
        #expect(decision.held[ids[3]] == SendAdmission.Hold(limit: google, waitUs: 150_000, nextFreeUs: 50_000))
        // The account granted 4, three were used: one goes back; google's one was used.
        #expect(decision.unused == [account: 1])
    }

    @Test func theLongestWaitNamesTheHold() {
        let id = UUID()
        let decision = SendAdmission.decide([(id, [account, google])], grants: [
            account: .init(admitted: 0, nextFreeUs: 900_000), google: .init(admitted: 0, nextFreeUs: 10),
        ])
        #expect(decision.held[id]?.limit == account)
        #expect(decision.admitted.isEmpty && decision.unused.isEmpty)
    }

    @Test func aLimitNotAskedLetsEverythingThrough() {
        let ids = [UUID(), UUID()]
        let decision = SendAdmission.decide([(ids[0], [account]), (ids[1], [])], grants: [:])
        #expect(decision.admitted == ids)
    }
}

@Suite struct FetchSizingTests {
    @Test func heldRoundsShrinkTheFetchToWhatWasAdmittedAndFreeRoundsGrowIt() {
        var sizing = FetchSizing(batchSize: 500)
        #expect(sizing.next == 500)
        // Tokens spent: a pause until the next is free.
        #expect(sizing.roundEnded(fetched: 500, held: 480, nextFreeMs: 5, jitter: 0.5) == 5)
        #expect(sizing.next == 20)
        #expect(sizing.roundEnded(fetched: 20, held: 0, nextFreeMs: 0, jitter: 0.5) == 0)
        #expect(sizing.next == 40)
        // A short fetch (the queue had less) does not grow it.
        #expect(sizing.roundEnded(fetched: 3, held: 0, nextFreeMs: 0, jitter: 0.5) == 0)
        #expect(sizing.next == 40)
        for _ in 0..<10 { _ = sizing.roundEnded(fetched: sizing.next, held: 0, nextFreeMs: 0, jitter: 0) }
        #expect(sizing.next == 500)
    }

    @Test func roundsHeldWhollyPauseLongerEachTimeUpToTheMaximum() {
        var sizing = FetchSizing(batchSize: 100, maxPauseMs: 250)
        #expect(sizing.roundEnded(fetched: 4, held: 4, nextFreeMs: 5, jitter: 0.5) == 5)
        #expect(sizing.next == 1)
        #expect(sizing.roundEnded(fetched: 1, held: 1, nextFreeMs: 5, jitter: 0.5) == 10)
        #expect(sizing.roundEnded(fetched: 1, held: 1, nextFreeMs: 5, jitter: 0.5) == 20)
        #expect(sizing.roundEnded(fetched: 1, held: 1, nextFreeMs: 5, jitter: 0) == 20)
        #expect(sizing.roundEnded(fetched: 1, held: 1, nextFreeMs: 5_000, jitter: 0.9) == 250)
        #expect(sizing.heldRounds == 5)
        // A round that sent something ends the run.
        #expect(sizing.roundEnded(fetched: 2, held: 1, nextFreeMs: 5, jitter: 0.5) == 5)
        #expect(sizing.heldRounds == 0)
    }
}

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
