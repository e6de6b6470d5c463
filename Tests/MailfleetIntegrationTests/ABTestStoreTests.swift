import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetStore
import Testing

/// A/B-tested campaigns against the real Postgres: the test cohort made first with each
/// contact in the variant its hash names, the campaign waiting as `testing`, clicks recorded
/// through the event writer, the decision taken on a controlled clock and recorded once, and
/// the rest made with the winner only, every contact exactly once.
@Suite("A/B tests in the store", .serialized)
struct ABTestStoreTests {
    typealias Audience = CampaignStoreTests.Audience

    /// Expands until the campaign waits, is done, or nothing is due.
    func drain(_ store: CampaignStore, now: Date) async throws {
        while case .expanded = try await store.expandNext(chunk: 40, now: now) {}
    }

    func messages(of campaign: UUID, pool: PostgresPool) async throws -> [(id: UUID, contact: UUID, variant: Int?, subject: String, from: String)] {
        try await pool.query(
            "SELECT id, contact_id, variant, content->>'subject' AS subject, content->'from'->>'email' AS sender FROM messages WHERE campaign_id = $1", [campaign]
        ).map {
            (try $0.uuid("id"), try $0.uuid("contact_id"), $0.optionalString("variant").flatMap { Int($0) }, try $0.string("subject"), try $0.string("sender"))
        }
    }

    @Test func theCohortIsTestedTheWinnerDecidedOnClicksAndTheRestGetsOnlyTheWinner() async throws {
        let audience = try await Audience.make(300)
        let pool = audience.db.pool
        let store = CampaignStore(pool: pool)
        var draft = audience.campaign()
        draft.variants = [
            CampaignVariant(name: "Plain", subject: "Plain {{first_name}}"),
            CampaignVariant(name: "Bold", subject: "Bold {{first_name}}", from: try EmailAddress(email: "ceo@example.com")),
        ]
        draft.abTest = ABTest(testPercent: 40, metric: .clicked, decideAfterMinutes: 60)
        let campaign = try await store.create(draft, actor: "test")
        #expect(campaign.variants == draft.variants && campaign.abTest == draft.abTest)
        _ = try await store.apply(.start, id: campaign.id, tenantID: audience.tenant, actor: "test")
        let start = Date()

        // The test cohort: one chunk, then a cursor lost as in a crash, then the rest of the pass.
        guard case .expanded = try await store.expandNext(chunk: 40, now: start) else { Issue.record("first chunk"); return }
        try await pool.query("UPDATE campaigns SET cursor = NULL WHERE id = $1", [campaign.id])
        try await drain(store, now: start)
        let testing = try #require(try await store.campaign(id: campaign.id, tenantID: audience.tenant))
        #expect(testing.state == .testing)
        let endsAt = try #require(testing.abTestEndsAt)
        #expect(abs(endsAt.timeIntervalSince(start) - 3600) < 1)
        let cohort = try await messages(of: campaign.id, pool: pool)
        let expected = audience.contacts.compactMap { contact in
            ABTest.assignment(campaignID: campaign.id, contactID: contact, share: 0.4, variants: 2).map { (contact, $0) }
        }
        #expect(cohort.count == expected.count && (80...160).contains(cohort.count))
        #expect(Dictionary(uniqueKeysWithValues: cohort.map { ($0.contact, $0.variant ?? -1) }) == Dictionary(uniqueKeysWithValues: expected))
        for message in cohort {
            #expect(message.variant == 1 ? message.subject.hasPrefix("Bold ") && message.from == "ceo@example.com" : message.subject.hasPrefix("Plain "))
        }
        // Nobody else is made while it tests, and the decision waits for its time.
        #expect(try await store.expandNext(chunk: 40, now: start.addingTimeInterval(1800)) == .idle)
        #expect(try await store.decideNextABTest(now: start.addingTimeInterval(1800)) == .idle)

        // Clicks: half of Bold's messages, one in twenty of Plain's (and a second click that counts once).
        let bold = cohort.filter { $0.variant == 1 }, plain = cohort.filter { $0.variant == 0 }
        let clicked = bold.enumerated().filter { $0.offset % 2 == 0 }.map(\.element.id) + plain.enumerated().filter { $0.offset % 20 == 0 }.map(\.element.id)
        let events = EventStore(pool: pool)
        try await events.insert(clicked.map { NewEvent(tenantID: audience.tenant, messageID: $0, type: .clicked, occurredAt: start) })
        try await events.insert([NewEvent(tenantID: audience.tenant, messageID: clicked[0], type: .clicked, occurredAt: start)])
        guard case .report(let before) = try await store.abReport(id: campaign.id, tenantID: audience.tenant) else { Issue.record("report"); return }
        #expect(before.phase == .testing && before.winner == nil && before.best == "Bold" && before.significant)
        #expect(before.variants.map(\.counts.sent) == [plain.count, bold.count])
        #expect(before.variants.map(\.counts.clicked) == [(plain.count + 19) / 20, (bold.count + 1) / 2])

        // At the deadline: decided once, in one transaction with the cursor reset.
        let decidedAt = endsAt.addingTimeInterval(1)
        guard case .decided(_, let decision) = try await store.decideNextABTest(now: decidedAt) else { Issue.record("decision"); return }
        #expect(decision.winnerName == "Bold" && decision.winner == 1 && decision.rule == .significant)
        let expectedZ = ProportionTest.compare((bold.count + 1) / 2, of: bold.count, with: (plain.count + 19) / 20, of: plain.count).z
        #expect(decision.result.variants[0].z == expectedZ && decision.result.variants[0].pValue! < 0.05)
        #expect(try await store.decideNextABTest(now: decidedAt) == .idle)
        let running = try #require(try await store.campaign(id: campaign.id, tenantID: audience.tenant))
        #expect(running.state == .running && running.cursor == nil && running.abDecision == decision)

        // The rest: the winner only, everyone exactly once.
        try await drain(store, now: decidedAt)
        let all = try await messages(of: campaign.id, pool: pool)
        #expect(all.count == 300 && Set(all.map(\.contact)) == Set(audience.contacts))
        let rest = all.filter { $0.variant == nil }
        #expect(rest.count == 300 - cohort.count && rest.allSatisfy { $0.subject.hasPrefix("Bold ") && $0.from == "ceo@example.com" })
        let done = try #require(try await store.campaign(id: campaign.id, tenantID: audience.tenant))
        #expect(done.state == .done && done.expanded == 300 && done.abDecision == decision)
        guard case .report(let after) = try await store.abReport(id: campaign.id, tenantID: audience.tenant) else { Issue.record("report"); return }
        #expect(after.phase == .decided && after.winner == "Bold" && after.variants.map(\.counts.sent) == [plain.count, bold.count])
        // The campaign's own stats count every message; a campaign without a test has no report.
        #expect(try await store.stats(id: campaign.id, tenantID: audience.tenant).clicked == clicked.count)
        let plainCampaign = try await store.create(audience.campaign(), actor: "test")
        #expect(try await store.abReport(id: plainCampaign.id, tenantID: audience.tenant) == .noTest)
        #expect(try await store.abReport(id: campaign.id, tenantID: audience.db.b) == .notFound)
    }

    @Test func aTestWithoutASignificantWinnerKeepsTheHighestRateAtTheDeadlineAndSurvivesAPause() async throws {
        let audience = try await Audience.make(120)
        let store = CampaignStore(pool: audience.db.pool)
        var draft = audience.campaign()
        draft.variants = [CampaignVariant(name: "A"), CampaignVariant(name: "B", subject: "B {{first_name}}")]
        draft.abTest = ABTest(sampleSize: 60, metric: .opened, decideAfterMinutes: 10, minConversions: 5)
        let campaign = try await store.create(draft, actor: "test")
        _ = try await store.apply(.start, id: campaign.id, tenantID: audience.tenant, actor: "test")
        let start = Date()
        try await drain(store, now: start)
        let cohort = try await messages(of: campaign.id, pool: audience.db.pool)
        #expect((30...90).contains(cohort.count))
        // Paused while testing and resumed: it goes back to testing with the same deadline.
        guard case .applied(let paused, _) = try await store.apply(.pause, id: campaign.id, tenantID: audience.tenant, actor: "t") else { Issue.record("pause"); return }
        #expect(paused.state == .paused)
        _ = try await store.apply(.resume, id: campaign.id, tenantID: audience.tenant, actor: "t", now: start.addingTimeInterval(60))
        try await drain(store, now: start.addingTimeInterval(60))
        let resumed = try #require(try await store.campaign(id: campaign.id, tenantID: audience.tenant))
        #expect(resumed.state == .testing && resumed.abTestEndsAt == paused.abTestEndsAt)
        // One open each: nothing significant. With an early stop set it looks again each minute.
        let a = try #require(cohort.first { $0.variant == 0 }), b = try #require(cohort.first { $0.variant == 1 })
        try await EventStore(pool: audience.db.pool).insert([a, b].map { NewEvent(tenantID: audience.tenant, messageID: $0.id, type: .opened, occurredAt: start) })
        guard case .waiting(_, let until) = try await store.decideNextABTest(now: start.addingTimeInterval(120)) else { Issue.record("waits"); return }
        #expect(abs(until.timeIntervalSince(start) - 180) < 1)
        guard case .decided(_, let decision) = try await store.decideNextABTest(now: start.addingTimeInterval(601)) else { Issue.record("decides"); return }
        let rates = [0, 1].map { v in 1.0 / Double(cohort.filter { $0.variant == v }.count) }
        #expect(decision.rule == .highestRate && decision.winner == (rates[1] > rates[0] ? 1 : 0))
        try await drain(store, now: start.addingTimeInterval(601))
        let all = try await messages(of: campaign.id, pool: audience.db.pool)
        #expect(all.count == 120 && Set(all.map(\.contact)).count == 120)
    }
    /// A decision that fails for one campaign is charged to it (it backs off, still testing),
    /// and the dead-letter purge leaves a running test's failed cohort messages, so the winner
    /// pass still knows those contacts had theirs.
    @Test func aFailingDecisionBacksOffAloneAndTheWinnerPassSeesPurgeProofDeadLetters() async throws {
        let audience = try await Audience.make(60)
        let store = CampaignStore(pool: audience.db.pool)
        var draft = audience.campaign()
        draft.variants = [CampaignVariant(name: "A"), CampaignVariant(name: "B", subject: "B")]
        draft.abTest = ABTest(sampleSize: 30, metric: .clicked, decideAfterMinutes: 10)
        let campaign = try await store.create(draft, actor: "test")
        _ = try await store.apply(.start, id: campaign.id, tenantID: audience.tenant, actor: "test")
        let start = Date()
        try await drain(store, now: start)
        let cohort = try await messages(of: campaign.id, pool: audience.db.pool)
        #expect(!cohort.isEmpty)
        // A cohort message failed long ago: kept while the campaign runs.
        try await audience.db.pool.query(
            "UPDATE messages SET status = 'failed', updated_at = now() - interval '40 days' WHERE id = $1", [cohort[0].id])
        let messageStore = MessageStore(pool: audience.db.pool)
        #expect(try await messageStore.purgeDeadLetters(olderThanDays: 30) == 0)

        // At the deadline the row no longer reads: the step fails, charged to this campaign.
        try await audience.db.pool.query("UPDATE campaigns SET from_email = 'not an address' WHERE id = $1", [campaign.id])
        let deadline = start.addingTimeInterval(601)
        let backoff = CampaignBackoff(first: 5, maximum: 3600)
        guard case .failed(campaign.id, 1, let until, let error) = try await store.decideNextABTest(now: deadline, backoff: backoff) else {
            Issue.record("the decision should fail and back off")
            return
        }
        #expect(until == deadline.addingTimeInterval(5) && error.contains("A/B decision failed"))
        #expect(try await store.decideNextABTest(now: deadline, backoff: backoff) == .idle)
        let row = try await audience.db.pool.query("SELECT state, failures FROM campaigns WHERE id = $1", [campaign.id])[0]
        #expect(try row.string("state") == "testing" && row.int("failures") == 1)

        // Repaired, it is decided at its next try; the rest get the winner, nobody twice,
        // including the contact whose cohort message failed.
        try await audience.db.pool.query("UPDATE campaigns SET from_email = 'news@example.com' WHERE id = $1", [campaign.id])
        guard case .decided = try await store.decideNextABTest(now: until.addingTimeInterval(1), backoff: backoff) else {
            Issue.record("decides once repaired")
            return
        }
        try await drain(store, now: until.addingTimeInterval(1))
        let all = try await messages(of: campaign.id, pool: audience.db.pool)
        #expect(all.count == 60 && Set(all.map(\.contact)).count == 60)
        #expect(try await store.campaign(id: campaign.id, tenantID: audience.tenant)?.state == .done)
        // Done: now the dead letter may go.
        #expect(try await messageStore.purgeDeadLetters(olderThanDays: 30) == 1)
    }
}
