import Foundation
import MailfleetCore
import Testing

/// Sender health: rates over windows, and when bulk pauses by itself.
@Suite struct SenderHealthTests {
    let tenant = UUID(uuidString: "00000000-0000-0000-0000-0000000000aa")!
    let other = UUID(uuidString: "00000000-0000-0000-0000-0000000000bb")!

    @Test func ratesAreShareOfSentAndAbsentBeforeAnySend() {
        let none = HealthCounts(delivered: 3, complained: 1)
        #expect(none.bounceRate == nil && none.complaintRate == nil && none.deliveryRate == nil)
        let counts = HealthCounts(sent: 1000, delivered: 950, hardBounced: 40, softBounced: 10, complained: 3)
        #expect(counts.bounceRate == 0.04)
        #expect(counts.complaintRate == 0.003)
        #expect(counts.deliveryRate == 0.95)
        #expect(counts + counts == HealthCounts(sent: 2000, delivered: 1900, hardBounced: 80, softBounced: 20, complained: 6))
    }

    @Test func windowsHoldWholeMinutesEndingWithTheCurrentOne() {
        let now = Date(timeIntervalSince1970: 60 * 1000 + 59.9)
        #expect(HealthWindow.minute(of: now) == 1000)
        #expect(HealthWindow.minute(of: Date(timeIntervalSince1970: 60 * 1001)) == 1001)
        #expect(HealthWindow.hour.firstMinute(endingAt: 1000) == 941)
        #expect(HealthWindow.day.firstMinute(endingAt: 1440) == 1)
        #expect(HealthWindow.allCases.map(\.rawValue) == ["1h", "24h"])
    }

    @Test func complaintsAboveThePointThreePercentLimitPauseOnlyOverTheMinimumVolume() {
        let policy = HealthPolicy(bounceThreshold: 0.05, minimumVolume: 500)
        // Exactly 0.3 % is not above the limit.
        #expect(policy.pauseReason(HealthCounts(sent: 1000, complained: 3), over: .day) == nil)
        let reason = policy.pauseReason(HealthCounts(sent: 1000, complained: 4), over: .day)
        #expect(reason == "complaint rate 0.4% over 24h (4 of 1000 sent) is above 0.3%")
        // Too little volume proves nothing, however bad the rate.
        #expect(policy.pauseReason(HealthCounts(sent: 499, complained: 100), over: .hour) == nil)
    }

    @Test func hardBouncesAboveTheThresholdPauseAndSoftOnesDoNot() {
        let policy = HealthPolicy(bounceThreshold: 0.05, minimumVolume: 10)
        #expect(policy.pauseReason(HealthCounts(sent: 100, hardBounced: 5, softBounced: 50), over: .hour) == nil)
        #expect(policy.pauseReason(HealthCounts(sent: 100, hardBounced: 6), over: .hour) == "hard bounce rate 6% over 1h (6 of 100 sent) is above 5%")
    }

    @Test func eitherWindowPausesAndTheHourIsNamedFirst() {
        let policy = HealthPolicy(bounceThreshold: 0.05, minimumVolume: 100)
        let quietHour = HealthCounts(sent: 50, complained: 5)
        let badDay = HealthCounts(sent: 2000, complained: 10)
        #expect(policy.pauseReason(hour: quietHour, day: badDay)?.hasPrefix("complaint rate 0.5% over 24h") == true)
        let badHour = HealthCounts(sent: 200, hardBounced: 20)
        #expect(policy.pauseReason(hour: badHour, day: badHour + badDay)?.hasPrefix("hard bounce rate 10% over 1h") == true)
        #expect(policy.pauseReason(hour: HealthCounts(sent: 200), day: HealthCounts(sent: 5000, complained: 1)) == nil)
    }

    @Test func aDomainPausesOnItsOwnAndATenantOnTheSumOfItsDomains() {
        let policy = HealthPolicy(bounceThreshold: 0.05, minimumVolume: 100)
        let health = [
            // Each domain alone is under the minimum volume; together they pass it with 2 % complaints.
            DomainHealth(tenantID: tenant, domain: "a.example", hour: HealthCounts(sent: 60, complained: 1), day: HealthCounts(sent: 60, complained: 1)),
            DomainHealth(tenantID: tenant, domain: "b.example", hour: HealthCounts(sent: 60, complained: 1), day: HealthCounts(sent: 60, complained: 1)),
            // Another tenant's bad domain pauses that domain alone: its good domain keeps the tenant's sum under the limits.
            DomainHealth(tenantID: other, domain: "c.example", hour: HealthCounts(sent: 100, hardBounced: 10), day: HealthCounts(sent: 100, hardBounced: 10)),
            DomainHealth(tenantID: other, domain: "d.example", hour: HealthCounts(sent: 1000), day: HealthCounts(sent: 10_000)),
        ]
        let pauses = policy.pauses(health)
        #expect(pauses.map(\.domain) == ["c.example", BulkPause.wholeTenant])
        #expect(pauses.map(\.tenantID) == [other, tenant])
        #expect(pauses[0].reason == "c.example: hard bounce rate 10% over 1h (10 of 100 sent) is above 5%")
        #expect(pauses[1].reason == "tenant: complaint rate 1.67% over 1h (2 of 120 sent) is above 0.3%")
    }

    @Test func aPauseHoldsBulkOfItsDomainOrOfTheWholeTenant() {
        #expect(BulkPause.holding(fromDomain: "a.example", paused: []) == nil)
        #expect(BulkPause.holding(fromDomain: "a.example", paused: ["b.example"]) == nil)
        #expect(BulkPause.holding(fromDomain: "a.example", paused: ["a.example"]) == "a.example")
        #expect(BulkPause.holding(fromDomain: "a.example", paused: [BulkPause.wholeTenant, "a.example"]) == BulkPause.wholeTenant)
        #expect(BulkPause.waitingReason(domain: "a.example").contains("from a.example is paused"))
        #expect(HealthPolicy.percent(0.003) == "0.3%" && HealthPolicy.percent(0.05) == "5%")
    }

    @Test func theReportSumsDomainsAndMarksWhatAPauseHolds() throws {
        let pausedAt = Date(timeIntervalSince1970: 1_800_000_000)
        let health = [
            DomainHealth(tenantID: tenant, domain: "b.example", hour: HealthCounts(sent: 10, complained: 1), day: HealthCounts(sent: 20, complained: 1)),
            DomainHealth(tenantID: tenant, domain: "a.example", hour: HealthCounts(sent: 30), day: HealthCounts(sent: 40, hardBounced: 2)),
        ]
        let one = SenderHealthReport(tenantID: tenant, health: health, pauses: [BulkPause(tenantID: tenant, domain: "b.example", reason: "r", pausedAt: pausedAt)])
        #expect(one.bulkPaused)
        #expect(one.domains.map(\.domain) == ["a.example", "b.example"])
        #expect(one.domains.map(\.bulkPaused) == [false, true])
        #expect(one.last1h == SenderHealthReport.Window(HealthCounts(sent: 40, complained: 1)))
        #expect(one.last24h.hardBounced == 2 && one.last24h.sent == 60 && one.last24h.bounceRate == 2.0 / 60)
        let whole = SenderHealthReport(tenantID: tenant, health: health, pauses: [BulkPause(tenantID: tenant, domain: BulkPause.wholeTenant, reason: "r", pausedAt: pausedAt)])
        #expect(whole.domains.allSatisfy { $0.bulkPaused })
        // The whole-tenant pause has no domain; rates before any send are absent, not zero.
        let json = String(decoding: try JSONEncoder().encode(whole.pauses[0]), as: UTF8.self)
        #expect(!json.contains("domain") && json.contains("paused_at"))
        let quiet = String(decoding: try JSONEncoder().encode(SenderHealthReport.Window(HealthCounts())), as: UTF8.self)
        #expect(!quiet.contains("rate") && quiet.contains("hard_bounced"))
        let none = SenderHealthReport(tenantID: tenant, health: [], pauses: [])
        #expect(!none.bulkPaused && none.domains.isEmpty && none.tenantID == "00000000-0000-0000-0000-0000000000aa")
    }
}
