import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetProviderFormats
import MailfleetStore
import Testing

/// Sender-health counters written by the real outcome and webhook writes, read over windows,
/// judged by the policy, and the pauses that follow: made once, audited, resumed.
@Suite("Sender health in Postgres", .serialized)
struct SenderHealthStoreTests {
    @Test func sendsAndReportsAreCountedPerDomainAndPausesAreMadeOnceAndResumed() async throws {
        let url = try await TestEnvironment.freshDatabase()
        let pool = PostgresPool(url: url, size: 2, name: "it-health")
        try await Migrator(pool: pool).migrate()
        let tenants = TenantStore(pool: pool)
        let tenant = try await tenants.createTenant(name: "t")
        let store = MessageStore(pool: pool)
        let news = (0..<10).map { message(tenant, from: "news@A.example", $0) }
        let shop = (0..<10).map { message(tenant, from: "shop@b.example", $0) }
        let all = news + shop
        _ = try await store.accept([AcceptRequest(tenantID: tenant, idempotencyKey: nil, requestHash: "h", responseStatus: 202, responseBody: "{}", messages: all)])
        #expect(try await store.claim(all.map(\.id), lease: 60).count == 20)
        var outcomes = OutcomeBatch()
        let account = UUID()
        outcomes.sent = all.map { .init(messageID: $0.id, tenantID: tenant, accountID: account, providerMessageID: nil) }
        try await store.record(outcomes)

        let now = Date()
        func report(_ id: String, _ kind: WebhookEvent.Kind, _ message: Message, bounce: Bounce.Severity? = nil) -> ReceivedWebhookEvent {
            ReceivedWebhookEvent(tenantID: tenant, accountID: account, event: WebhookEvent(
                provider: .sendgrid, providerEventID: id, kind: kind, messageID: message.id, recipient: "r@example.net", occurredAt: now,
                bounce: bounce.map { Bounce(severity: $0, bounceClass: .unclassified) }))
        }
        var reports = (0..<5).map { report("d\($0)", .delivered, news[$0]) }
        reports += [report("c0", .complained, news[0]), report("c1", .complained, news[1]), report("o0", .opened, news[2])]
        reports += [report("h0", .bounced, shop[0], bounce: .hard), report("s0", .bounced, shop[1], bounce: .soft)]
        _ = try await WebhookEventStore(pool: pool).record(reports)
        // The same complaint delivered again is not stored, so not counted.
        #expect(try await WebhookEventStore(pool: pool).record([report("c0", .complained, news[0])]) == [.duplicate])

        let health = try await tenants.domainHealth(tenantID: tenant)
        #expect(health.map(\.domain) == ["a.example", "b.example"])
        #expect(health[0].hour == HealthCounts(sent: 10, delivered: 5, complained: 2))
        #expect(health[1].hour == HealthCounts(sent: 10, hardBounced: 1, softBounced: 1))
        #expect(health.map(\.day) == health.map(\.hour))
        // Another tenant's view is its own.
        #expect(try await tenants.domainHealth(tenantID: UUID()).isEmpty)

        let policy = HealthPolicy(bounceThreshold: 0.05, minimumVolume: 10)
        let decided = judged(policy, try await tenants.healthToJudge())
        #expect(decided.map(\.domain) == ["a.example", "b.example", BulkPause.wholeTenant])
        let made = try await tenants.pauseBulk(decided, actor: "scheduler")
        #expect(made.count == 3)
        // A pause in force is not made again (nor audited again).
        #expect(try await tenants.pauseBulk(decided, actor: "scheduler").isEmpty)
        #expect(try await tenants.pausedBulkDomains(tenantIDs: [tenant, UUID()]) == [tenant: ["", "a.example", "b.example"]])
        #expect(try await tenants.pausedTenantCount() == 1)
        #expect(try await tenants.bulkPauses(tenantID: tenant).first { $0.domain == "a.example" }?.reason.contains("complaint rate 20%") == true)

        #expect(try await tenants.resumeBulk(tenantID: tenant, domain: "a.example", actor: "cli:test").map(\.domain) == ["a.example"])
        #expect(try await tenants.pausedBulkDomains(tenantIDs: [tenant]) == [tenant: ["", "b.example"]])
        #expect(try await tenants.resumeBulk(tenantID: tenant, actor: "cli:test").count == 2)
        #expect(try await tenants.pausedTenantCount() == 0)
        let audit = try await AuditLog(pool: pool).entries(tenantID: tenant).map(\.action).filter { $0.hasPrefix("bulk.") }
        #expect(audit.filter { $0 == "bulk.paused" }.count == 3)
        #expect(audit.filter { $0 == "bulk.resumed" }.count == 3)

        // What was resumed is judged afresh: the minutes up to the resume no longer count
        // towards a pause, while the health shown keeps them.
        #expect(judged(policy, try await tenants.healthToJudge()).isEmpty)
        #expect(try await tenants.domainHealth(tenantID: tenant).count == 2)
        // A pause made again after a resume is in force again.
        #expect(try await tenants.pauseBulk(decided, actor: "scheduler").count == 3)

        // The second wall: under another tenant's row-level security, a query with no tenant
        // filter sees none of these counters or pauses, and lifts no pause.
        let stranger = try await tenants.createTenant(name: "stranger")
        let seen = try await pool.tenantTransaction(stranger) { connection in
            (try connection.query("SELECT count(*) AS n FROM sender_health").first!.int("n"),
             try connection.query("UPDATE bulk_pauses SET resumed_at = now() RETURNING tenant_id").count)
        }
        #expect(seen.0 == 0 && seen.1 == 0)
        #expect(try await pool.tenantTransaction(tenant) { try $0.query("SELECT count(*) AS n FROM sender_health").first!.int("n") } > 0)
        #expect(try await tenants.pausedBulkDomains(tenantIDs: [tenant])[tenant]?.count == 3)

        try await tenants.purgeHealthCounters(now: now.addingTimeInterval(2 * 86_400))
        #expect(try await tenants.domainHealth(tenantID: tenant).isEmpty)
        await pool.shutdown()
    }

    /// Sends count per recipient, as providers report per recipient; a report counts in the
    /// minute its message was sent, so a late complaint lands in the window of the mail it is about.
    @Test func sendsCountRecipientsAndReportsCountInTheirMessagesSendMinute() async throws {
        let url = try await TestEnvironment.freshDatabase()
        let pool = PostgresPool(url: url, size: 2, name: "it-health-cohort")
        try await Migrator(pool: pool).migrate()
        let tenants = TenantStore(pool: pool)
        let tenant = try await tenants.createTenant(name: "t")
        let store = MessageStore(pool: pool)
        let recipients = (0..<3).map { try! EmailAddress(email: "r\($0)@example.net") }
        let many = Message(
            id: UUID(), tenantID: tenant, priority: .bulk, status: .queued,
            content: MessageContent(from: try! EmailAddress(email: "news@c.example"), to: [recipients[0]], cc: [recipients[1]], bcc: [recipients[2]], subject: "s", text: "t"))
        let old = message(tenant, from: "news@c.example", 9)
        _ = try await store.accept([AcceptRequest(tenantID: tenant, idempotencyKey: nil, requestHash: "h", responseStatus: 202, responseBody: "{}", messages: [many, old])])
        _ = try await store.claim([many.id, old.id], lease: 60)
        var outcomes = OutcomeBatch()
        let account = UUID()
        outcomes.sent = [many, old].map { .init(messageID: $0.id, tenantID: tenant, accountID: account, providerMessageID: nil) }
        try await store.record(outcomes)
        #expect(try await tenants.domainHealth(tenantID: tenant).first?.hour == HealthCounts(sent: 4))

        // `old` was sent two hours ago (as if): its complaint, arriving now, counts then.
        try await pool.query("UPDATE messages SET sent_at = now() - interval '2 hours' WHERE id = $1", [old.id])
        let complaint = ReceivedWebhookEvent(tenantID: tenant, accountID: account, event: WebhookEvent(
            provider: .sendgrid, providerEventID: "late", kind: .complained, messageID: old.id, recipient: "r9@example.net", occurredAt: Date()))
        _ = try await WebhookEventStore(pool: pool).record([complaint])
        let health = try #require(try await tenants.domainHealth(tenantID: tenant).first)
        #expect(health.hour.complained == 0)
        #expect(health.day.complained == 1)
        await pool.shutdown()
    }

    @Test func resumingOneDomainRestartsOnlyThatDomainsJudgement() async throws {
        let url = try await TestEnvironment.freshDatabase()
        let pool = PostgresPool(url: url, size: 2, name: "it-health-resume")
        try await Migrator(pool: pool).migrate()
        let tenants = TenantStore(pool: pool)
        let tenant = try await tenants.createTenant(name: "t")
        // A minute before now: a.example complains (20 %), b.example bounces (10 %), c.example
        // is clean; the tenant as a whole is under both limits (4 % and 2 % of 50 sent).
        let minute = HealthWindow.minute(of: Date()) - 1
        try await pool.query(
            """
            INSERT INTO sender_health (tenant_id, domain, minute, slot, sent, complained, hard_bounced)
            VALUES ($1, 'a.example', $2, 0, 10, 2, 0), ($1, 'b.example', $2, 0, 10, 0, 1), ($1, 'c.example', $2, 0, 30, 0, 0)
            """, [tenant, minute])
        let policy = HealthPolicy(complaintThreshold: 0.1, bounceThreshold: 0.05, minimumVolume: 10)
        let decided = judged(policy, try await tenants.healthToJudge())
        #expect(decided.map(\.domain) == ["a.example", "b.example"])
        #expect(try await tenants.pauseBulk(decided, actor: "scheduler").count == 2)

        // Resuming a.example restarts its judgement only: b.example is still judged over its
        // bounces (its pause stays in force and is not made again).
        #expect(try await tenants.resumeBulk(tenantID: tenant, domain: "a.example", actor: "cli:test").count == 1)
        #expect(judged(policy, try await tenants.healthToJudge()).map(\.domain) == ["b.example"])
        #expect(try await tenants.pausedBulkDomains(tenantIDs: [tenant]) == [tenant: ["b.example"]])

        // a.example paused again (say by hand through a later evaluation), then b.example
        // resumed: b.example's resume time is its own, a.example's new pause takes none away.
        #expect(try await tenants.pauseBulk([(tenant, "a.example", "again")], actor: "scheduler").count == 1)
        #expect(try await tenants.resumeBulk(tenantID: tenant, domain: "b.example", actor: "cli:test").count == 1)
        #expect(judged(policy, try await tenants.healthToJudge()).map(\.domain) == ["a.example"])

        // With the tenant's sum over the limit, resuming one domain leaves the tenant's judgement
        // alone; resuming the whole tenant restarts everything.
        try await pool.query("UPDATE sender_health SET complained = 10 WHERE domain = 'c.example'")
        let whole = judged(policy, try await tenants.healthToJudge())
        #expect(whole.map(\.domain) == ["a.example", "c.example", BulkPause.wholeTenant])
        _ = try await tenants.pauseBulk(whole, actor: "scheduler")
        _ = try await tenants.resumeBulk(tenantID: tenant, domain: "c.example", actor: "cli:test")
        #expect(judged(policy, try await tenants.healthToJudge()).map(\.domain) == ["a.example", BulkPause.wholeTenant])
        _ = try await tenants.resumeBulk(tenantID: tenant, actor: "cli:test")
        #expect(judged(policy, try await tenants.healthToJudge()).isEmpty)
        await pool.shutdown()
    }

    private func judged(_ policy: HealthPolicy, _ health: (domains: [DomainHealth], tenants: [DomainHealth])) -> [(tenantID: UUID, domain: String, reason: String)] {
        policy.pauses(domains: health.domains, tenants: health.tenants)
    }

    private func message(_ tenant: UUID, from: String, _ i: Int) -> Message {
        Message(
            id: UUID(), tenantID: tenant, priority: .bulk, status: .queued,
            content: MessageContent(from: try! EmailAddress(email: from), to: [try! EmailAddress(email: "r\(i)@example.net")], subject: "s", text: "t"))
    }
}
