import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetStore
import Testing

/// Campaigns against the real Postgres: expansion in contact-id order with the cursor moved in
/// the chunk's transaction, duplicates skipped, pacing, pause, resume, cancel, scheduling,
/// stats, and the unsubscribe link taking a contact off the campaign's list.
@Suite("Campaigns in the store", .serialized)
struct CampaignStoreTests {
    /// A tenant with a list of `count` subscribed contacts (ids in order), each with a `first_name`.
    struct Audience {
        let db: TwoTenants
        let list: UUID
        let contacts: [UUID]
        var tenant: UUID { db.a }

        static func make(_ count: Int, zones: [String?] = []) async throws -> Audience {
            let db = try await TwoTenants.make()
            let list = UUID()
            try await db.pool.query("INSERT INTO contact_lists (id, tenant_id, name) VALUES ($1, $2, 'news')", [list, db.a])
            let contacts = (0..<count).map { _ in UUID() }.sorted { $0.uuidString < $1.uuidString }
            try await db.pool.query(
                """
                INSERT INTO contacts (id, tenant_id, email, attributes, time_zone)
                SELECT id, $2, 'reader' || n || '@example.com', jsonb_build_object('first_name', 'Reader ' || n), zone
                FROM unnest($1::uuid[], $3::text[]) WITH ORDINALITY AS u(id, zone, n)
                """, [contacts, db.a, (0..<count).map { zones.indices.contains($0) ? zones[$0] : nil }])
            try await db.pool.query(
                "INSERT INTO list_members (list_id, contact_id, tenant_id, status) SELECT $1, id, $2, 'subscribed' FROM unnest($3::uuid[]) AS u(id)",
                [list, db.a, contacts])
            return Audience(db: db, list: list, contacts: contacts)
        }

        func campaign(perHour: Int? = nil, schedule: CampaignSchedule? = nil) -> Campaign {
            Campaign(
                id: UUID(), tenantID: tenant, name: "spring", listID: list,
                template: MessageTemplate(subject: "Hello {{first_name}}", text: "Hi {{first_name}} at {{email}}", html: nil),
                from: try! EmailAddress(email: "news@example.com"),
                schedule: schedule ?? CampaignSchedule(sendAt: nil, localTime: nil, timeZone: nil, perRecipient: false), perHour: perHour)
        }

        /// Contact id → how many messages of the campaign it has.
        func messagesPerContact(_ campaign: UUID) async throws -> [UUID: Int] {
            var out: [UUID: Int] = [:]
            for row in try await db.pool.query("SELECT contact_id, count(*) AS n FROM messages WHERE campaign_id = $1 GROUP BY contact_id", [campaign]) {
                out[try row.uuid("contact_id")] = try row.int("n")
            }
            return out
        }
    }

    /// Expands until nothing is due; returns the items to enqueue, in order.
    @discardableResult
    func drain(_ store: CampaignStore, chunk: Int, now: Date = Date()) async throws -> [MessageQueue.Item] {
        var items: [MessageQueue.Item] = []
        while true {
            switch try await store.expandNext(chunk: chunk, now: now) {
            case .idle: return items
            case .expanded(_, _, _, let made): items += made
            case .finished: continue
            case .waiting, .failed: return items
            }
        }
    }

    @Test func aCampaignReachesEverySubscribedUnsuppressedContactOnceInContactOrder() async throws {
        let audience = try await Audience.make(12)
        let pool = audience.db.pool
        // One unsubscribed, one suppressed, one pending: none of them receives it.
        try await pool.query("UPDATE list_members SET status = 'unsubscribed' WHERE contact_id = $1", [audience.contacts[1]])
        try await pool.query("UPDATE list_members SET status = 'pending' WHERE contact_id = $1", [audience.contacts[2]])
        let suppressedEmail = try await pool.query("SELECT email FROM contacts WHERE id = $1", [audience.contacts[3]]).first!.string("email")
        try await pool.query("INSERT INTO suppressions (tenant_id, email, reason) VALUES ($1, $2, 'manual')", [audience.tenant, suppressedEmail])
        // Another tenant's list of the same id does not exist for this tenant.
        let store = CampaignStore(pool: pool)
        let other = Campaign(
            id: UUID(), tenantID: audience.db.b, name: "x", listID: audience.list, template: MessageTemplate(subject: "s", text: "t", html: nil),
            from: try EmailAddress(email: "a@example.com"))
        await #expect(throws: CampaignStore.CreateRefusal.noList) { try await store.create(other, actor: "test") }

        let campaign = try await store.create(audience.campaign(), actor: "test")
        #expect(campaign.state == .draft)
        // A draft is not expanded.
        #expect(try await store.expandNext(chunk: 5) == .idle)
        guard case .applied(let started, nil) = try await store.apply(.start, id: campaign.id, tenantID: audience.tenant, actor: "test") else {
            Issue.record("start was not applied")
            return
        }
        #expect(started.state == .running)
        let items = try await drain(store, chunk: 4)
        let expected = audience.contacts.enumerated().filter { ![1, 2, 3].contains($0.offset) }.map(\.element)
        let counts = try await audience.messagesPerContact(campaign.id)
        #expect(Set(counts.keys) == Set(expected))
        #expect(counts.values.allSatisfy { $0 == 1 })
        #expect(items.count == expected.count && items.allSatisfy { $0.priority == .bulk && $0.tenantID == audience.tenant })

        let done = try #require(try await store.campaign(id: campaign.id, tenantID: audience.tenant))
        #expect(done.state == .done && done.expanded == expected.count && done.recipientsTotal == expected.count && done.finishedAt != nil)
        #expect(done.cursor == expected.last)

        // Each message is an ordinary bulk message of the campaign's batch, rendered for its contact.
        let messages = MessageStore(pool: pool)
        let first = try #require(try await messages.message(id: items[0].id, tenantID: audience.tenant))
        #expect(first.message.content.subject == "Hello Reader 1")
        #expect(first.message.content.text == "Hi Reader 1 at reader1@example.com")
        #expect(first.message.batchID == campaign.batchID && first.message.priority == .bulk)
        #expect(first.message.content.metadata["campaign_id"] == campaign.id.lowercasedString)
        // Another tenant sees no campaign.
        #expect(try await store.campaign(id: campaign.id, tenantID: audience.db.b) == nil)
    }

    @Test func aCursorMovedBackSkipsContactsThatAlreadyHaveTheirMessage() async throws {
        let audience = try await Audience.make(6)
        let store = CampaignStore(pool: audience.db.pool)
        let campaign = try await store.create(audience.campaign(), actor: "test")
        _ = try await store.apply(.start, id: campaign.id, tenantID: audience.tenant, actor: "test")
        guard case .expanded(_, 4, 0, _) = try await store.expandNext(chunk: 4) else { Issue.record("first chunk"); return }
        // As if a crash had lost the cursor but not the messages: the campaign's check skips them.
        try await audience.db.pool.query("UPDATE campaigns SET cursor = NULL WHERE id = $1", [campaign.id])
        guard case .expanded(_, let made, _, _) = try await store.expandNext(chunk: 5) else { Issue.record("second chunk"); return }
        #expect(made == 1)
        try await drain(store, chunk: 5)
        let counts = try await audience.messagesPerContact(campaign.id)
        #expect(counts.count == 6 && counts.values.allSatisfy { $0 == 1 })
        let done = try #require(try await store.campaign(id: campaign.id, tenantID: audience.tenant))
        #expect(done.state == .done && done.expanded == 6)
        // The tenant's usage counts the messages inserted, not the ones skipped.
        let used = try await audience.db.pool.query(
            "SELECT COALESCE(sum(count), 0)::int AS n FROM tenant_usage WHERE tenant_id = $1 AND period = 'daily'", [audience.tenant]).first!.int("n")
        #expect(used == 6)
    }

    @Test func pauseStopsExpansionAndResumeGoesOnFromTheCursor() async throws {
        let audience = try await Audience.make(10)
        let store = CampaignStore(pool: audience.db.pool)
        let campaign = try await store.create(audience.campaign(), actor: "test")
        // Only a started campaign can be paused; a draft cannot be resumed.
        #expect(try await store.apply(.pause, id: campaign.id, tenantID: audience.tenant, actor: "t") == .refused(.init(command: .pause, state: .draft)))
        #expect(try await store.apply(.resume, id: campaign.id, tenantID: audience.tenant, actor: "t") == .refused(.init(command: .resume, state: .draft)))
        #expect(try await store.apply(.start, id: UUID(), tenantID: audience.tenant, actor: "t") == .notFound)
        _ = try await store.apply(.start, id: campaign.id, tenantID: audience.tenant, actor: "t")
        _ = try await store.expandNext(chunk: 3)
        guard case .applied(let paused, _) = try await store.apply(.pause, id: campaign.id, tenantID: audience.tenant, actor: "t") else {
            Issue.record("pause")
            return
        }
        #expect(paused.state == .paused && paused.expanded == 3)
        #expect(try await store.expandNext(chunk: 3) == .idle)
        _ = try await store.apply(.resume, id: campaign.id, tenantID: audience.tenant, actor: "t")
        try await drain(store, chunk: 3)
        let counts = try await audience.messagesPerContact(campaign.id)
        #expect(Set(counts.keys) == Set(audience.contacts) && counts.values.allSatisfy { $0 == 1 })
        #expect(try await AuditLog(pool: audience.db.pool).entries(tenantID: audience.tenant).map(\.action).prefix(4)
            == ["campaign.resumed", "campaign.paused", "campaign.started", "campaign.created"])
    }

    @Test func cancelStopsExpansionAndCancelsTheQueuedMessages() async throws {
        let audience = try await Audience.make(8)
        let store = CampaignStore(pool: audience.db.pool)
        let campaign = try await store.create(audience.campaign(), actor: "test")
        _ = try await store.apply(.start, id: campaign.id, tenantID: audience.tenant, actor: "t")
        _ = try await store.expandNext(chunk: 5)
        // One already sent: not cancellable.
        try await audience.db.pool.query(
            "UPDATE messages SET status = 'sent', sent_at = now() WHERE id = (SELECT id FROM messages WHERE campaign_id = $1 ORDER BY contact_id LIMIT 1)",
            [campaign.id])
        guard case .applied(let cancelled, let batch?) = try await store.apply(.cancel, id: campaign.id, tenantID: audience.tenant, actor: "t") else {
            Issue.record("cancel")
            return
        }
        #expect(cancelled.state == .cancelled && cancelled.finishedAt != nil)
        #expect(batch.cancelled.count == 4 && batch.notCancellable == 1)
        #expect(try await store.expandNext(chunk: 5) == .idle)
        #expect(try await store.apply(.resume, id: campaign.id, tenantID: audience.tenant, actor: "t") == .refused(.init(command: .resume, state: .cancelled)))
        let stats = try await store.stats(id: campaign.id, tenantID: audience.tenant)
        #expect(stats.sent == 1 && stats.cancelled == 4 && stats.pending == 0)
    }

    /// A campaign whose chunk fails every time backs off in its own row, with a growing delay,
    /// and the runner goes on with the others; once it reads again it resumes where it was.
    @Test func aFailingCampaignBacksOffAloneAndTheOthersGoOn() async throws {
        let audience = try await Audience.make(6)
        let store = CampaignStore(pool: audience.db.pool)
        let broken = try await store.create(audience.campaign(), actor: "test")
        let healthy = try await store.create(audience.campaign(), actor: "test")
        let now = Date()
        for campaign in [broken, healthy] { _ = try await store.apply(.start, id: campaign.id, tenantID: audience.tenant, actor: "t", now: now) }
        // Due longest ago, and its row no longer reads (a sender no address parser accepts).
        try await audience.db.pool.query(
            "UPDATE campaigns SET next_run_at = $2, from_email = 'not an address' WHERE id = $1", [broken.id, now.addingTimeInterval(-60)])
        let backoff = CampaignBackoff(first: 5, maximum: 3600)

        guard case .failed(broken.id, 1, let until, let error) = try await store.expandNext(chunk: 10, now: now, backoff: backoff) else {
            Issue.record("the broken campaign's chunk should fail and back off")
            return
        }
        #expect(until == now.addingTimeInterval(5) && error.contains("expansion failed"))
        guard case .expanded(healthy.id, 6, 0, _) = try await store.expandNext(chunk: 10, now: now, backoff: backoff) else {
            Issue.record("the healthy campaign should go on")
            return
        }
        // Read by hand: the row no longer reads as a campaign.
        let stored = try await audience.db.pool.query("SELECT state, expanded, last_error, failures FROM campaigns WHERE id = $1", [broken.id])[0]
        #expect(try stored.string("state") == "running" && stored.int("expanded") == 0 && stored.int("failures") == 1)
        #expect(stored.optionalString("last_error") == error)

        // Failing again doubles the wait (the healthy one, due longer, ends first).
        let later = until.addingTimeInterval(1)
        #expect(try await store.expandNext(chunk: 10, now: later, backoff: backoff) == .finished(campaignID: healthy.id))
        guard case .failed(broken.id, 2, let second, _) = try await store.expandNext(chunk: 10, now: later, backoff: backoff) else {
            Issue.record("second failure")
            return
        }
        #expect(second == later.addingTimeInterval(10))
        #expect(try await store.expandNext(chunk: 10, now: later, backoff: backoff) == .idle)

        // Repaired, it expands at its next try and its count of failures starts again.
        try await audience.db.pool.query("UPDATE campaigns SET from_email = 'news@example.com' WHERE id = $1", [broken.id])
        let repaired = second.addingTimeInterval(1)
        guard case .expanded(broken.id, 6, 0, _) = try await store.expandNext(chunk: 10, now: repaired, backoff: backoff) else {
            Issue.record("the repaired campaign should expand")
            return
        }
        #expect(try await audience.db.pool.query("SELECT failures FROM campaigns WHERE id = $1", [broken.id])[0].int("failures") == 0)
    }

    /// A cancel whose state change committed but whose batch cancel never ran (the process
    /// died between the two): sending the cancel again finishes it, answers the campaign, and
    /// writes no second state change or audit entry.
    @Test func aCancelCutOffBeforeItsBatchCancelIsFinishedBySendingItAgain() async throws {
        let audience = try await Audience.make(4)
        let store = CampaignStore(pool: audience.db.pool)
        let campaign = try await store.create(audience.campaign(), actor: "test")
        _ = try await store.apply(.start, id: campaign.id, tenantID: audience.tenant, actor: "t")
        _ = try await store.expandNext(chunk: 10)
        try await audience.db.pool.query("UPDATE campaigns SET state = 'cancelled', finished_at = now() WHERE id = $1", [campaign.id])
        let finishedAt = try #require(try await store.campaign(id: campaign.id, tenantID: audience.tenant)?.finishedAt)

        guard case .applied(let again, let batch?) = try await store.apply(.cancel, id: campaign.id, tenantID: audience.tenant, actor: "t") else {
            Issue.record("a repeated cancel should apply")
            return
        }
        #expect(again.state == .cancelled && again.finishedAt == finishedAt)
        #expect(batch.cancelled.count == 4 && batch.notCancellable == 0)
        guard case .applied(_, let none?) = try await store.apply(.cancel, id: campaign.id, tenantID: audience.tenant, actor: "t") else {
            Issue.record("a third cancel should apply too")
            return
        }
        #expect(none.cancelled.isEmpty)
        let audited = try await AuditLog(pool: audience.db.pool).entries(tenantID: audience.tenant).map(\.action)
        #expect(!audited.contains("campaign.cancelled"))
        #expect(try await store.stats(id: campaign.id, tenantID: audience.tenant).cancelled == 4)
    }

    @Test func aPerHourCapHoldsExpansionUntilTheHourFreesUp() async throws {
        let audience = try await Audience.make(9)
        let store = CampaignStore(pool: audience.db.pool)
        let campaign = try await store.create(audience.campaign(perHour: 5), actor: "test")
        _ = try await store.apply(.start, id: campaign.id, tenantID: audience.tenant, actor: "t")
        let start = Date()
        guard case .expanded(_, 3, _, _) = try await store.expandNext(chunk: 3, now: start) else { Issue.record("first"); return }
        guard case .expanded(_, 2, _, _) = try await store.expandNext(chunk: 3, now: start) else { Issue.record("second"); return }
        guard case .waiting(_, let until, _) = try await store.expandNext(chunk: 3, now: start) else { Issue.record("waits"); return }
        #expect(until > start.addingTimeInterval(3600) && until <= start.addingTimeInterval(3660))
        #expect(try await store.expandNext(chunk: 3, now: start.addingTimeInterval(600)) == .idle)
        let later = start.addingTimeInterval(3661)
        guard case .expanded(_, 3, _, _) = try await store.expandNext(chunk: 3, now: later) else { Issue.record("after the hour"); return }
        #expect(try await audience.messagesPerContact(campaign.id).count == 8)
    }

    @Test func aDailyQuotaSmallerThanAChunkIsUsedUpThenTheCampaignWaitsForTheNextDay() async throws {
        let audience = try await Audience.make(10)
        try await audience.db.pool.query("UPDATE tenants SET daily_quota = 4 WHERE id = $1", [audience.tenant])
        let store = CampaignStore(pool: audience.db.pool)
        let campaign = try await store.create(audience.campaign(), actor: "test")
        _ = try await store.apply(.start, id: campaign.id, tenantID: audience.tenant, actor: "t")
        let now = Date()
        // A chunk of 500 would never fit under a quota of 4: the chunk is cut to what is left.
        guard case .expanded(_, 4, _, _) = try await store.expandNext(chunk: 500, now: now) else { Issue.record("the quota's 4"); return }
        guard case .waiting(_, let until, let reason) = try await store.expandNext(chunk: 500, now: now) else { Issue.record("waits"); return }
        #expect(reason.contains("quota"))
        #expect(until > now && until <= now.addingTimeInterval(86_400))
        #expect(try await audience.messagesPerContact(campaign.id).count == 4)
    }

    @Test func aScheduledCampaignWaitsForItsTimeAndLocalTimesFollowEachContactsZone() async throws {
        let audience = try await Audience.make(2, zones: ["Asia/Tokyo", nil])
        let store = CampaignStore(pool: audience.db.pool)
        let local = try #require(LocalDateTime("2031-06-01T09:00:00"))
        let schedule = try CampaignSchedule.parse(sendAt: local.text, timeZone: "Europe/Berlin", perRecipient: true)
        let campaign = try await store.create(audience.campaign(schedule: schedule), actor: "test")
        guard case .applied(let started, _) = try await store.apply(.start, id: campaign.id, tenantID: audience.tenant, actor: "t") else {
            Issue.record("start")
            return
        }
        #expect(started.state == .scheduled)
        #expect(try await store.expandNext(chunk: 5) == .idle)
        let items = try await drain(store, chunk: 5, now: try #require(schedule.firstRunAt))
        #expect(items.count == 2)
        let tokyo = local.date(in: TimeZone(identifier: "Asia/Tokyo")!), berlin = local.date(in: TimeZone(identifier: "Europe/Berlin")!)
        #expect(Set(items.compactMap(\.dueAt)) == [tokyo, berlin])
        let state = try await store.campaign(id: campaign.id, tenantID: audience.tenant)?.state
        #expect(state == .done)
    }

    @Test func messagesCommittedButNeverEnqueuedAreFoundByReconciliation() async throws {
        let audience = try await Audience.make(3)
        let store = CampaignStore(pool: audience.db.pool)
        let campaign = try await store.create(audience.campaign(), actor: "test")
        _ = try await store.apply(.start, id: campaign.id, tenantID: audience.tenant, actor: "t")
        // The runner died after the commit: its items never reached Redis.
        let items = try await drain(store, chunk: 5)
        try await audience.db.pool.query("UPDATE messages SET enqueued_at = now() - interval '1 hour' WHERE campaign_id = $1", [campaign.id])
        let stalled = try await MessageStore(pool: audience.db.pool).stalled(olderThan: 300, limit: 100).items
        #expect(Set(stalled.map(\.id)) == Set(items.map(\.id)))
    }

    @Test func statsCountEachMessageOncePerEventAndUnsubscribingLeavesTheList() async throws {
        let audience = try await Audience.make(3)
        let pool = audience.db.pool
        let store = CampaignStore(pool: pool)
        let campaign = try await store.create(audience.campaign(), actor: "test")
        _ = try await store.apply(.start, id: campaign.id, tenantID: audience.tenant, actor: "t")
        let items = try await drain(store, chunk: 5)
        let events = EventStore(pool: pool)
        try await events.insert([
            NewEvent(tenantID: audience.tenant, messageID: items[0].id, type: .opened),
            NewEvent(tenantID: audience.tenant, messageID: items[0].id, type: .opened),
            NewEvent(tenantID: audience.tenant, messageID: items[1].id, type: .opened),
            NewEvent(tenantID: audience.tenant, messageID: items[1].id, type: .deferred),
        ])
        try await events.insert([
            NewEvent(tenantID: audience.tenant, messageID: items[0].id, type: .opened),
            NewEvent(tenantID: audience.tenant, messageID: items[0].id, type: .clicked),
            NewEvent(tenantID: audience.tenant, messageID: items[2].id, type: .delivered),
        ])
        var stats = try await store.stats(id: campaign.id, tenantID: audience.tenant)
        #expect(stats.opened == 2 && stats.clicked == 1 && stats.delivered == 1 && stats.pending == 3)

        let message = try #require(try await MessageStore(pool: pool).message(id: items[1].id, tenantID: audience.tenant))
        let recorded = try await SuppressionStore(pool: pool).unsubscribe(
            tenantID: audience.tenant, messageID: items[1].id, address: message.message.content.to[0])
        #expect(recorded)
        let status = try await pool.query(
            "SELECT status FROM list_members WHERE list_id = $1 AND contact_id = $2", [audience.list, audience.contacts[1]]).first!.string("status")
        #expect(status == "unsubscribed")
        let others = try await pool.query(
            "SELECT count(*)::int AS n FROM list_members WHERE list_id = $1 AND status = 'subscribed'", [audience.list]).first!.int("n")
        #expect(others == 2)
        stats = try await store.stats(id: campaign.id, tenantID: audience.tenant)
        #expect(stats.unsubscribed == 1)
    }
}
