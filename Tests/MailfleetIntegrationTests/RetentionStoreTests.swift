import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetStore
import Testing

/// Messages and events partitioned by day against the real Postgres: the upgrade from an
/// unpartitioned table places every row by its id and loses none, a day made later takes its
/// rows from the catch-all partition without counting their events again, expired days are
/// dropped unless a message in them is owed work, and a tenant's shorter retention and the
/// catch-all partitions are kept row by row.
@Suite("Partitions and retention", .serialized)
struct RetentionStoreTests {
    static let day: TimeInterval = 86_400
    let today = MessageRetention.day(of: Date())

    static func migrated() async throws -> PostgresPool {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: "it-retention")
        try await Migrator(pool: pool).migrate()
        return pool
    }

    /// A message row as the accept path leaves it, with one event.
    static func message(
        _ id: UUID, tenant: UUID, status: String = "sent", created: Date = Date(), campaign: UUID? = nil, on pool: PostgresPool
    ) async throws {
        try await pool.query(
            "INSERT INTO messages (id, tenant_id, status, priority, content, created_at, campaign_id) VALUES ($1, $2, $3, 'bulk', '{}', $4, $5)",
            [id, tenant, status, created, campaign])
        try await event(for: id, tenant: tenant, at: created, on: pool)
    }

    static func event(for message: UUID, tenant: UUID, at: Date, on pool: PostgresPool) async throws {
        try await pool.query("INSERT INTO events (tenant_id, message_id, type, occurred_at) VALUES ($1, $2, 'opened', $3)", [tenant, message, at])
    }

    /// The partition holding each of `ids` in `table` (by `key`), by id.
    static func partitions(_ table: String, key: String = "id", of ids: [UUID], on pool: PostgresPool) async throws -> [UUID: String] {
        var found: [UUID: String] = [:]
        for row in try await pool.query("SELECT \(key) AS id, tableoid::regclass::text AS part FROM \(table) WHERE \(key) = ANY($1::uuid[])", [ids]) {
            found[try row.uuid("id")] = try row.string("part")
        }
        return found
    }

    static func exists(_ table: String, on pool: PostgresPool) async throws -> Bool {
        try await pool.query("SELECT to_regclass($1) IS NOT NULL AS found", [table]).first!.bool("found")
    }

    @Test func theUpgradeKeepsEveryRowAndPlacesItByItsId() async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: "it-upgrade")
        try await Migrator(pool: pool).migrate(through: 23)
        let tenant = try await TenantStore(pool: pool).createTenant(name: "t")
        let suffix = MessageRetention.suffix(of: today)
        let expected: [(UUID, String)] = [
            (UUID.timeOrdered(at: today.addingTimeInterval(-3 * Self.day)), "before"),
            (UUID.timeOrdered(at: Date()), suffix),
            (UUID(uuidString: "00a1b2c3-d4e5-4f60-8a1b-2c3d4e5f6071")!, "before"),
            (UUID(uuidString: "f1234567-89ab-4cde-8f01-23456789abcd")!, "legacy"),
            (UUID(uuidString: "0200ffff-0000-4000-8000-000000000001")!, "legacy"),
            // Random (v4) ids between the days made and 2039's UUIDv7s: the catch-all.
            (UUID(uuidString: "01ff0000-0000-4000-8000-000000000001")!, "default"),
        ]
        for (id, _) in expected { try await Self.message(id, tenant: tenant, on: pool) }
        // A webhook delivery made before the upgrade learns its event's message.
        try await pool.query(
            "INSERT INTO webhook_endpoints (id, tenant_id, url, secret) VALUES ($1, $2, 'https://example.com/hook', 'whsec_x')", [UUID(), tenant])
        try await Self.event(for: expected[3].0, tenant: tenant, at: Date(), on: pool)

        #expect(try await Migrator(pool: pool).migrate() == [24])
        let ids = expected.map(\.0)
        let messages = try await Self.partitions("messages", of: ids, on: pool)
        let events = try await Self.partitions("events", key: "message_id", of: ids, on: pool)
        for (id, part) in expected {
            #expect(messages[id] == "messages_\(part)", "\(id)")
            #expect(events[id] == "events_\(part)", "\(id)")
        }
        #expect(try await pool.query("SELECT count(*) AS n FROM events").first!.int("n") == expected.count + 1)
        let deliveries = try await pool.query("SELECT event_id, message_id FROM webhook_deliveries")
        #expect(deliveries.count == 1)
        #expect(try deliveries.first?.uuid("message_id") == expected[3].0)

        // The SQL day bound is the Swift one (the pure policy's I/O twin).
        for offset in [-400, -1, 0, 1, 3, 4_660] {
            let day = MessageRetention.add(days: offset, to: today)
            let bound = try await pool.query("SELECT mailfleet_day_bound($1::date) AS b", [QuotaPeriod.daily.key(of: day)]).first!.uuid("b")
            #expect(bound == MessageRetention.lowerBound(of: day), "\(day)")
        }
        // Today and three days ahead are made; a message accepted now goes to today's.
        for offset in 0...MessageRetention.daysAhead {
            #expect(try await Self.exists("messages_\(MessageRetention.suffix(of: MessageRetention.add(days: offset, to: today)))", on: pool))
        }
        let fresh = Message(id: UUID.timeOrdered(), tenantID: tenant, priority: .bulk, status: .queued, content: content())
        _ = try await MessageStore(pool: pool).accept([AcceptRequest(tenantID: tenant, idempotencyKey: nil, requestHash: "h", responseStatus: 202, responseBody: "{}", messages: [fresh])])
        #expect(try await Self.partitions("messages", of: [fresh.id], on: pool)[fresh.id] == "messages_\(suffix)")
        await pool.shutdown()
    }

    @Test func aDayMadeLaterTakesItsRowsFromTheCatchAllWithoutCountingTheirEventsAgain() async throws {
        let pool = try await Self.migrated()
        let tenant = try await TenantStore(pool: pool).createTenant(name: "t")
        try await pool.query(
            "INSERT INTO webhook_endpoints (id, tenant_id, url, secret) VALUES ($1, $2, 'https://example.com/hook', 'whsec_x')", [UUID(), tenant])
        let later = MessageRetention.add(days: 10, to: today)
        let id = UUID.timeOrdered(at: later.addingTimeInterval(3600))
        try await Self.message(id, tenant: tenant, on: pool)
        #expect(try await Self.partitions("messages", of: [id], on: pool)[id] == "messages_default")
        #expect(try await pool.query("SELECT count(*) AS n FROM webhook_deliveries").first!.int("n") == 1)

        let pass = try await RetentionStore(pool: pool).pass(MessageRetention(days: 30), now: later)
        #expect(pass.made == (0...3).map { MessageRetention.add(days: $0, to: later) })
        #expect(pass.dropped.isEmpty && pass.held.isEmpty && pass.busy.isEmpty)
        let suffix = MessageRetention.suffix(of: later)
        #expect(try await Self.partitions("messages", of: [id], on: pool)[id] == "messages_\(suffix)")
        #expect(try await Self.partitions("events", key: "message_id", of: [id], on: pool)[id] == "events_\(suffix)")
        #expect(try await pool.query("SELECT count(*) AS n FROM webhook_deliveries").first!.int("n") == 1)
        // Made already: a second pass makes nothing.
        #expect(try await RetentionStore(pool: pool).pass(MessageRetention(days: 30), now: later).made.isEmpty)
        await pool.shutdown()
    }

    @Test func expiredDaysAreDroppedUnlessAMessageInThemIsOwedWork() async throws {
        let pool = try await Self.migrated()
        let store = RetentionStore(pool: pool)
        let tenant = try await TenantStore(pool: pool).createTenant(name: "t")
        let list = UUID(), campaign = UUID()
        try await pool.query("INSERT INTO contact_lists (id, tenant_id, name) VALUES ($1, $2, 'l')", [list, tenant])
        try await pool.query(
            "INSERT INTO campaigns (id, tenant_id, name, list_id, subject, from_email, state) VALUES ($1, $2, 'c', $3, 's', 'a@example.com', 'running')",
            [campaign, tenant, list])
        let (day1, day2, day3) = (MessageRetention.add(days: 1, to: today), MessageRetention.add(days: 2, to: today), MessageRetention.add(days: 3, to: today))
        let sent = UUID.timeOrdered(at: day1.addingTimeInterval(60))
        let done = UUID.timeOrdered(at: day2.addingTimeInterval(60)), queued = UUID.timeOrdered(at: day2.addingTimeInterval(120))
        let inCampaign = UUID.timeOrdered(at: day3.addingTimeInterval(60))
        try await Self.message(sent, tenant: tenant, on: pool)
        try await Self.message(done, tenant: tenant, on: pool)
        try await Self.message(queued, tenant: tenant, status: "queued", on: pool)
        try await Self.message(inCampaign, tenant: tenant, campaign: campaign, on: pool)
        // Today's one sent message is a step of an active drip-sequence enrollment.
        let stepped = UUID.timeOrdered(), sequence = UUID(), contact = UUID(), enrollment = UUID()
        try await Self.message(stepped, tenant: tenant, on: pool)
        try await pool.query("INSERT INTO sequences (id, tenant_id, name, from_email, steps) VALUES ($1, $2, 's', 'a@example.com', '[]')", [sequence, tenant])
        try await pool.query("INSERT INTO contacts (id, tenant_id, email) VALUES ($1, $2, 'c@example.com')", [contact, tenant])
        try await pool.query(
            "INSERT INTO sequence_enrollments (id, tenant_id, sequence_id, contact_id, state, entry, entered_at) VALUES ($1, $2, $3, $4, 'active', 'api', now())",
            [enrollment, tenant, sequence, contact])
        try await pool.query(
            "INSERT INTO sequence_messages (enrollment_id, step, tenant_id, message_id, done_at) VALUES ($1, 0, $2, $3, now())", [enrollment, tenant, stepped])

        // Two days' retention: at day 3 + 3 every day made so far is past it.
        let retention = MessageRetention(days: 2)
        let now = MessageRetention.add(days: 3, to: day3)
        var pass = try await store.pass(retention, now: now)
        #expect(pass.dropped == [day1])
        #expect(pass.held == [today, day2, day3])
        #expect(try await !Self.exists("messages_\(MessageRetention.suffix(of: day1))", on: pool))
        #expect(try await !Self.exists("events_\(MessageRetention.suffix(of: day1))", on: pool))
        #expect(Set(try await Self.partitions("messages", of: [sent, done, queued, inCampaign, stepped], on: pool).keys) == [done, queued, inCampaign, stepped])
        #expect(try await pool.query("SELECT count(*) AS n FROM events").first!.int("n") == 4)

        // Once the work is done, the days go.
        try await pool.query("UPDATE messages SET status = 'sent' WHERE id = $1", [queued])
        try await pool.query("UPDATE campaigns SET state = 'done' WHERE id = $1", [campaign])
        try await pool.query("UPDATE sequence_enrollments SET state = 'completed' WHERE id = $1", [enrollment])
        pass = try await store.pass(retention, now: now)
        #expect(pass.dropped == [today, day2, day3] && pass.held.isEmpty)
        #expect(try await pool.query("SELECT count(*) AS n FROM messages").first!.int("n") == 0)
        #expect(try await pool.query("SELECT count(*) AS n FROM events").first!.int("n") == 0)
        // The days around `now` were made.
        #expect(try await Self.exists("messages_\(MessageRetention.suffix(of: MessageRetention.day(of: now)))", on: pool))
        await pool.shutdown()
    }

    @Test func aTenantsShorterRetentionAndTheCatchAllPartitionsAreKeptRowByRow() async throws {
        let pool = try await Self.migrated()
        let tenants = TenantStore(pool: pool)
        let (a, b) = (try await tenants.createTenant(name: "a"), try await tenants.createTenant(name: "b"))
        #expect(try await tenants.setRetention(tenantID: a, days: 2))
        await #expect(throws: AdminError.self) { try await tenants.setRetention(tenantID: a, days: 0) }
        #expect(try await tenants.retention(tenantID: a) == .some(2))
        #expect(try await tenants.retention(tenantID: b) == .some(nil))
        #expect(try await tenants.retention(tenantID: UUID()) == nil)

        let now = Date(), old = now.addingTimeInterval(-3 * Self.day)
        let aSent = UUID.timeOrdered(), aQueued = UUID.timeOrdered(), aNew = UUID.timeOrdered(), bSent = UUID.timeOrdered()
        try await Self.message(aSent, tenant: a, created: old, on: pool)
        try await Self.message(aQueued, tenant: a, status: "queued", created: old, on: pool)
        try await Self.message(aNew, tenant: a, on: pool)
        try await Self.message(bSent, tenant: b, created: old, on: pool)
        // Rows from before the upgrade: past the fleet's 30 days, and not.
        let bAncient = UUID.timeOrdered(at: now.addingTimeInterval(-40 * Self.day)), bRecent = UUID(uuidString: "f1234567-89ab-4cde-8f01-23456789abcd")!
        try await Self.message(bAncient, tenant: b, created: now.addingTimeInterval(-40 * Self.day), on: pool)
        try await Self.message(bRecent, tenant: b, created: now.addingTimeInterval(-10 * Self.day), on: pool)
        // A queued message from before the upgrade keeps its old events.
        let bWaiting = UUID(uuidString: "f2234567-89ab-4cde-8f01-23456789abcd")!
        try await Self.message(bWaiting, tenant: b, status: "queued", created: now.addingTimeInterval(-40 * Self.day), on: pool)
        // Opens that came after their message's day was dropped.
        let gone = UUID(uuidString: "01ff0000-0000-4000-8000-000000000002")!
        try await Self.event(for: gone, tenant: b, at: now.addingTimeInterval(-31 * Self.day), on: pool)
        try await Self.event(for: gone, tenant: b, at: now.addingTimeInterval(-Self.day), on: pool)

        let pass = try await RetentionStore(pool: pool).pass(MessageRetention(days: 30), now: now)
        #expect(pass.deletedMessages == 2)
        #expect(pass.deletedEvents == 1)
        #expect(pass.dropped.isEmpty && pass.held.isEmpty)
        let left = try await Self.partitions("messages", of: [aSent, aQueued, aNew, bSent, bAncient, bRecent], on: pool)
        #expect(Set(left.keys) == [aQueued, aNew, bSent, bRecent])
        let events = try await Self.partitions("events", key: "message_id", of: [aSent, aQueued, aNew, bSent, bAncient, bRecent, bWaiting, gone], on: pool)
        #expect(Set(events.keys) == [aQueued, aNew, bSent, bRecent, bWaiting, gone])
        #expect(try await pool.query("SELECT count(*) AS n FROM events WHERE message_id = $1", [gone]).first!.int("n") == 1)

        // A click on the shorter-retention tenant's deleted message, come late, goes by its time.
        try await Self.event(for: aSent, tenant: a, at: now.addingTimeInterval(-3 * Self.day), on: pool)
        try await Self.event(for: aSent, tenant: a, at: now, on: pool)
        let late = try await RetentionStore(pool: pool).pass(MessageRetention(days: 30), now: now)
        #expect(late.deletedMessages == 0 && late.deletedEvents == 1)
        #expect(try await pool.query("SELECT count(*) AS n FROM events WHERE message_id = $1", [aSent]).first!.int("n") == 1)

        // A retention longer than the fleet's is capped by it.
        #expect(try await tenants.setRetention(tenantID: a, days: 365))
        #expect(try await RetentionStore(pool: pool).pass(MessageRetention(days: 2), now: now).deletedMessages == 1)
        await pool.shutdown()
    }
}
