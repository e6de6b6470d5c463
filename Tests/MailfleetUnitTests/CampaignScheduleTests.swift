import Foundation
import MailfleetCore
import Testing

/// Campaign send times: RFC 3339 and local times, each recipient's zone, and the two DST edges.
@Suite("Campaign send times")
struct CampaignScheduleTests {
    let berlin = TimeZone(identifier: "Europe/Berlin")!
    let newYork = TimeZone(identifier: "America/New_York")!

    func utc(_ text: String) -> Date { ISO8601.parse(text)! }

    @Test func localTimesAreReadStrictly() {
        #expect(LocalDateTime("2026-03-01T09:00:00")?.text == "2026-03-01T09:00:00")
        #expect(LocalDateTime("2026-03-01T09:00")?.text == "2026-03-01T09:00:00")
        #expect(LocalDateTime("2024-02-29T09:00:00") != nil)
        for bad in ["2026-02-29T09:00:00", "2026-13-01T09:00:00", "2026-03-01T24:00:00", "2026-03-01 09:00:00", "2026-03-01T09:00:00Z",
                    "2026-03-01T09:00:00+01:00", "26-03-01T09:00:00", "2026-03-01", "２０２６-03-01T09:00:00"] {
            #expect(LocalDateTime(bad) == nil, "\(bad)")
        }
    }

    @Test func aWallTimeIsPlacedInItsZoneWinterAndSummer() {
        #expect(LocalDateTime("2026-01-15T09:00:00")!.date(in: berlin) == utc("2026-01-15T08:00:00Z"))
        #expect(LocalDateTime("2026-07-15T09:00:00")!.date(in: berlin) == utc("2026-07-15T07:00:00Z"))
        #expect(LocalDateTime("2026-07-15T09:00:00")!.date(in: newYork) == utc("2026-07-15T13:00:00Z"))
        #expect(LocalDateTime("2026-07-15T09:00:00")!.date(in: TimeZone(identifier: "Asia/Kolkata")!) == utc("2026-07-15T03:30:00Z"))
    }

    @Test func aTimeSkippedBySpringForwardMovesForwardByTheGap() {
        // Berlin jumps from 02:00 CET to 03:00 CEST on 2026-03-29: 02:30 does not exist, it is 03:30 CEST.
        #expect(LocalDateTime("2026-03-29T02:30:00")!.date(in: berlin) == utc("2026-03-29T01:30:00Z"))
        // New York jumps at 02:00 EST on 2026-03-08.
        #expect(LocalDateTime("2026-03-08T02:15:00")!.date(in: newYork) == utc("2026-03-08T07:15:00Z"))
        // Just either side of the gap is as the clock says.
        #expect(LocalDateTime("2026-03-29T01:59:00")!.date(in: berlin) == utc("2026-03-29T00:59:00Z"))
        #expect(LocalDateTime("2026-03-29T03:00:00")!.date(in: berlin) == utc("2026-03-29T01:00:00Z"))
    }

    @Test func aTimeRepeatedByFallBackIsTheFirstOfTheTwo() {
        // Berlin's 02:30 happens twice on 2026-10-25: first in CEST (00:30Z), then in CET (01:30Z).
        #expect(LocalDateTime("2026-10-25T02:30:00")!.date(in: berlin) == utc("2026-10-25T00:30:00Z"))
        #expect(LocalDateTime("2026-11-01T01:30:00")!.date(in: newYork) == utc("2026-11-01T05:30:00Z"))
    }

    @Test func theApiFieldsAreReadWithClearErrors() throws {
        let absolute = try CampaignSchedule.parse(sendAt: "2026-03-01T09:00:00+01:00", timeZone: nil, perRecipient: false)
        #expect(absolute.sendAt == utc("2026-03-01T08:00:00Z") && absolute.localTime == nil)
        let local = try CampaignSchedule.parse(sendAt: "2026-03-01T09:00:00", timeZone: "Europe/Berlin", perRecipient: false)
        #expect(local.sendAt == utc("2026-03-01T08:00:00Z") && local.localTime?.text == "2026-03-01T09:00:00")
        #expect(try CampaignSchedule.parse(sendAt: nil, timeZone: nil, perRecipient: false).firstRunAt == nil)

        func field(_ sendAt: String?, _ zone: String?, _ perRecipient: Bool) -> String? {
            do {
                _ = try CampaignSchedule.parse(sendAt: sendAt, timeZone: zone, perRecipient: perRecipient)
                return nil
            } catch {
                return error.field
            }
        }
        #expect(field("2026-03-01T09:00:00", nil, false) == "time_zone")
        #expect(field("2026-03-01T09:00:00", "Mars/Olympus", false) == "time_zone")
        #expect(field("tomorrow", nil, false) == "send_at")
        #expect(field("2026-03-01T09:00:00Z", "Europe/Berlin", true) == "send_at")
        #expect(field(nil, "Europe/Berlin", true) == "send_at")
    }

    @Test func eachRecipientGetsTheWallTimeInTheirOwnZoneOrTheCampaigns() throws {
        let schedule = try CampaignSchedule.parse(sendAt: "2026-07-15T09:00:00", timeZone: "Europe/Berlin", perRecipient: true)
        let before = utc("2026-07-14T00:00:00Z")
        #expect(schedule.sendAt(contactTimeZone: "America/New_York", now: before) == utc("2026-07-15T13:00:00Z"))
        #expect(schedule.sendAt(contactTimeZone: "Pacific/Kiritimati", now: before) == utc("2026-07-14T19:00:00Z"))
        // No zone, or not a zone: the campaign's.
        #expect(schedule.sendAt(contactTimeZone: nil, now: before) == utc("2026-07-15T07:00:00Z"))
        #expect(schedule.sendAt(contactTimeZone: "nowhere", now: before) == utc("2026-07-15T07:00:00Z"))
        // Expansion begins when the time first arrives anywhere (UTC+14).
        #expect(schedule.firstRunAt == utc("2026-07-14T19:00:00Z"))
        // A zone whose time already passed gets its message at once.
        #expect(schedule.sendAt(contactTimeZone: "Asia/Tokyo", now: utc("2026-07-15T06:00:00Z")) == nil)
        #expect(schedule.sendAt(contactTimeZone: "America/New_York", now: utc("2026-07-15T06:00:00Z")) == utc("2026-07-15T13:00:00Z"))
        // Without per-recipient time everyone gets the campaign's instant.
        let one = try CampaignSchedule.parse(sendAt: "2026-07-15T09:00:00", timeZone: "Europe/Berlin", perRecipient: false)
        #expect(one.sendAt(contactTimeZone: "America/New_York", now: before) == utc("2026-07-15T07:00:00Z"))
        #expect(one.firstRunAt == utc("2026-07-15T07:00:00Z"))
    }
}

/// The per-hour cap's arithmetic.
@Suite("Campaign pacing")
struct CampaignPacingTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func noCapAllowsAnything() {
        #expect(CampaignPacing().allowance(perHour: nil, at: start) == Int.max)
    }

    @Test func theCapCountsARollingHourOfMinutes() {
        var pacing = CampaignPacing()
        pacing.record(600, at: start)
        pacing.record(300, at: start.addingTimeInterval(20))
        pacing.record(50, at: start.addingTimeInterval(30 * 60))
        #expect(pacing.minutes.count == 2)
        #expect(pacing.allowance(perHour: 1000, at: start.addingTimeInterval(31 * 60)) == 50)
        // The first minute stops counting an hour after its last second (61 minutes after it began).
        let firstMinuteEnds = Date(timeIntervalSince1970: (start.timeIntervalSince1970 / 60).rounded(.down) * 60 + 3660)
        #expect(pacing.nextFree(at: start.addingTimeInterval(31 * 60)) == firstMinuteEnds)
        #expect(pacing.allowance(perHour: 1000, at: firstMinuteEnds.addingTimeInterval(-1)) == 50)
        #expect(pacing.allowance(perHour: 1000, at: firstMinuteEnds) == 950)
        // Recording forgets minutes outside the hour, so the record stays small.
        pacing.record(1, at: firstMinuteEnds)
        #expect(pacing.minutes.map(\.count) == [50, 1])
        #expect(pacing.allowance(perHour: 10, at: firstMinuteEnds) == 0)
    }

    @Test func overAnyHourTheCapIsNeverPassed() {
        // A runner expanding as much as it is allowed every 7 seconds for three hours.
        var pacing = CampaignPacing()
        var log: [(Date, Int)] = []
        for step in 0..<(3 * 3600 / 7) {
            let now = start.addingTimeInterval(Double(step * 7))
            let take = min(37, pacing.allowance(perHour: 500, at: now))
            pacing.record(take, at: now)
            log.append((now, take))
            let hour = log.filter { now.timeIntervalSince($0.0) < 3600 }.reduce(0) { $0 + $1.1 }
            #expect(hour <= 500)
        }
        // And it does not starve: close to the cap per hour over the run.
        #expect(log.reduce(0) { $0 + $1.1 } >= 3 * 500 - 37)
    }
}

/// The campaign state machine.
@Suite("Campaign states")
struct CampaignStateTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func everyCommandInEveryState() {
        let later = now.addingTimeInterval(3600)
        let table: [(CampaignState, CampaignCommand, Date?, CampaignState?)] = [
            (.draft, .start, nil, .running), (.draft, .start, later, .scheduled), (.draft, .start, now.addingTimeInterval(-1), .running),
            (.draft, .pause, nil, nil), (.draft, .resume, nil, nil), (.draft, .cancel, nil, .cancelled),
            (.scheduled, .start, nil, nil), (.scheduled, .pause, later, .paused), (.scheduled, .resume, nil, nil), (.scheduled, .cancel, nil, .cancelled),
            (.running, .start, nil, nil), (.running, .pause, nil, .paused), (.running, .resume, nil, nil), (.running, .cancel, nil, .cancelled),
            (.paused, .start, nil, nil), (.paused, .pause, nil, nil), (.paused, .resume, nil, .running), (.paused, .resume, later, .scheduled),
            (.paused, .cancel, nil, .cancelled),
            (.testing, .start, nil, nil), (.testing, .pause, nil, .paused), (.testing, .resume, nil, nil), (.testing, .cancel, nil, .cancelled),
        ]
        for (state, command, firstRun, expected) in table {
            let result = try? state.applying(command, firstRunAt: firstRun, now: now)
            #expect(result == expected, "\(state) \(command)")
        }
        for state in [CampaignState.cancelled, .done] {
            #expect(state.isFinal)
            for command in CampaignCommand.allCases where (state, command) != (.cancelled, .cancel) {
                #expect(throws: CampaignState.Refusal(command: command, state: state)) { try state.applying(command, firstRunAt: nil, now: now) }
            }
        }
        // A cancel sent again (its answer lost) finds the campaign cancelled and leaves it so.
        #expect((try? CampaignState.cancelled.applying(.cancel, firstRunAt: nil, now: now)) == .cancelled)
        #expect(CampaignState.Refusal(command: .resume, state: .done).message == "a done campaign cannot be resumed")
        #expect(CampaignState.scheduled.takenUp() == .running && CampaignState.running.takenUp() == .running && CampaignState.testing.takenUp() == .testing)
    }

    @Test func aRecipientsMessageIsABulkMessageOfTheCampaignsBatch() throws {
        let campaign = Campaign(
            id: UUID(), tenantID: UUID(), name: "n", listID: UUID(), template: MessageTemplate(subject: "Hi {{name}}", text: "{{email}}", html: nil),
            from: try EmailAddress(email: "news@example.com"), trackOpens: true)
        let recipient = CampaignRecipient(contactID: UUID(), email: "ann@example.com", attributes: .object(["name": .string("Ann"), "email": .string("spoof")]), timeZone: nil)
        let submission = try #require(campaign.submission(for: recipient, now: now))
        #expect(submission.priority == .bulk && submission.batchID == campaign.batchID && submission.templateID == campaign.id)
        #expect(BatchID.isValid(campaign.batchID))
        #expect(submission.content.to.map(\.email) == ["ann@example.com"] && submission.content.trackOpens)
        // The address is the contact's, whatever its attributes say.
        #expect(submission.variables == .object(["name": .string("Ann"), "email": .string("ann@example.com")]))
        let plan = SubmissionPlan(items: [.success(submission)], isBatch: true, tenantID: campaign.tenantID, templates: [campaign.id: campaign.template], limits: MessageLimits(), now: now)
        let message = try #require(plan.messages.first)
        #expect(message.content.subject == "Hi Ann" && message.content.text == "ann@example.com")
        #expect(campaign.submission(for: CampaignRecipient(contactID: UUID(), email: "not an address", attributes: .null, timeZone: nil), now: now) == nil)
    }
}
