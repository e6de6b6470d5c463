import Foundation
import Logging
import MailfleetAPI
import MailfleetCore
import MailfleetPostgres
import MailfleetRedis
import MailfleetStore
import Metrics
import MetricsTestKit
import Testing

func content(_ i: Int = 0) -> MessageContent {
    MessageContent(from: try! EmailAddress(email: "from@example.com"), to: [try! EmailAddress(email: "to\(i)@example.com")], subject: "S\(i)", text: "t")
}

@Suite("Store and queue", .serialized)
struct StoreAndQueueTests {
    @Test func migrationsAreIdempotentAndSafeToRunConcurrently() async throws {
        let url = try await TestEnvironment.freshDatabase()
        let pools = (0..<4).map { PostgresPool(url: url, size: 1, name: "mig-\($0)") }
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for pool in pools { group.addTask { try await Migrator(pool: pool).migrate() } }
            var all: [Int] = []
            for try await versions in group { all += versions }
            return all
        }
        #expect(applied.sorted() == Migrations.all.map(\.version))
        #expect(try await Migrator(pool: pools[0]).migrate().isEmpty)
        let recorded = try await pools[0].query("SELECT count(*) AS n FROM schema_migrations").first!.int("n")
        #expect(recorded == Migrations.all.count)
        for pool in pools { await pool.shutdown() }
    }

    /// A migrate killed during a migration's concurrent index builds leaves its version
    /// unrecorded, some indexes missing and the one being built invalid; the next run finishes it.
    @Test func anInterruptedConcurrentIndexBuildIsFinishedOnTheNextRun() async throws {
        let url = try await TestEnvironment.freshDatabase()
        let pool = PostgresPool(url: url, size: 1, name: "mig-index")
        let version = try #require(Migrations.all.first { !$0.indexes.isEmpty })
        // The schema as that version left it (its indexes are on `events`, partitioned later).
        try await Migrator(pool: pool).migrate(through: version.version)
        let names = version.indexes.map(\.name)
        let unique = try #require(version.indexes.first { $0.unique })
        try await pool.withConnection { connection in
            try connection.query("DELETE FROM schema_migrations WHERE version = $1", [version.version])
            for name in names { try connection.execute("DROP INDEX \(name)") }
            // Two copies of one provider event make the unique build fail part way.
            try connection.query(
                "INSERT INTO events (tenant_id, message_id, type, provider_account_id, provider_event_id) VALUES ($1, $2, 'delivered', $3, 'e1'), ($1, $2, 'delivered', $3, 'e1')",
                [UUID(), UUID(), UUID()])
        }
        await #expect(throws: PostgresError.self) {
            try await pool.withConnection { try $0.execute("CREATE UNIQUE INDEX CONCURRENTLY \(unique.name) \(unique.definition)") }
        }
        let validity = {
            try await pool.query(
                "SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = ANY($1)", [names]
            ).map { "\(try $0.string("name")) \(try $0.bool("valid"))" }.sorted()
        }
        #expect(try await validity() == ["\(unique.name) false"])
        try await pool.query("DELETE FROM events WHERE provider_event_id = 'e1'")

        #expect(try await Migrator(pool: pool).migrate(through: version.version) == [version.version])
        #expect(try await validity() == names.map { "\($0) true" }.sorted())
        await pool.shutdown()
    }

    @Test func queueMovesKeepLanesOrderAndCounts() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-queue")
        let queue = MessageQueue(redis: redis, partitioning: Partitioning(count: 1), prefix: "it\(UUID().uuidString.prefix(6))")
        let bulk = (0..<10).map { _ in UUID() }, urgent = (0..<5).map { _ in UUID() }, later = (0..<3).map { _ in UUID() }
        let now = Date(), tenant = UUID()
        try await queue.enqueue(
            bulk.map { .init(id: $0, priority: .bulk, tenantID: tenant) } + urgent.map { .init(id: $0, priority: .transactional, tenantID: tenant) }
                + later.map { .init(id: $0, priority: .bulk, tenantID: tenant, dueAt: now.addingTimeInterval(3600)) }, now: now)
        var depth = try await queue.depth()
        #expect(depth.readyBulk == 10 && depth.readyTransactional == 5 && depth.delayed == 3)

        // Transactional first, then bulk, FIFO within a lane.
        let fetched = try await queue.fetch(partition: 0, max: 8, leaseSeconds: 30, now: now)
        #expect(fetched.map(\.id) == urgent + bulk.prefix(3))
        depth = try await queue.depth()
        #expect(depth.leased == 8 && depth.readyTransactional == 0 && depth.readyBulk == 7)

        try await queue.acknowledge(Array(fetched.prefix(2)))
        try await queue.reschedule([(fetched[2].id, fetched[2].priority, now.addingTimeInterval(-1))])
        try await queue.deadLetter([(fetched[3].id, fetched[3].priority, "bounced: no such user")])
        depth = try await queue.depth()
        // Dead-lettering only ends the lease: the failed row in Postgres is the record.
        #expect(depth.leased == 4 && depth.delayed == 4)

        // Only the due entry is promoted, back into its own lane.
        #expect(try await queue.promoteDue(partition: 0, now: now) == 1)
        depth = try await queue.depth()
        #expect(depth.readyTransactional == 1 && depth.delayed == 3)

        // Nothing has expired yet; after the lease, everything leased returns to the front.
        #expect(try await queue.reclaimExpired(partition: 0, now: now) == 0)
        #expect(try await queue.reclaimExpired(partition: 0, now: now.addingTimeInterval(31)) == 4)
        let again = try await queue.fetch(partition: 0, max: 100, leaseSeconds: 30, now: now)
        #expect(again.count == 1 + 4 + 7)
        #expect(Set(again.map(\.id)).isSuperset(of: Set(fetched.suffix(4).map(\.id))))
        #expect(!again.contains { $0.id == fetched[3].id })
        #expect(try await redis.command("EXISTS", "\(queue.prefix):{p0}:dead").int == 0)
        redis.shutdown()
    }

    @Test func claimsHandEachMessageOutOnceAndRespectFinalStates() async throws {
        let url = try await TestEnvironment.freshDatabase()
        let pool = PostgresPool(url: url, size: 4, name: "it-claim")
        try await Migrator(pool: pool).migrate()
        let tenant = try await TenantStore(pool: pool).createTenant(name: "t")
        let store = MessageStore(pool: pool)
        let messages = (0..<100).map { Message(id: UUID(), tenantID: tenant, priority: .bulk, status: .queued, content: content($0)) }
        let result = try await store.accept([AcceptRequest(tenantID: tenant, idempotencyKey: nil, requestHash: "h", responseStatus: 202, responseBody: "{}", messages: messages)])
        #expect(result == [.created])
        let ids = messages.map(\.id)
        async let first = store.claim(ids, lease: 60)
        async let second = store.claim(ids, lease: 60)
        let (a, b) = try await (first, second)
        #expect(Set(a.map(\.id)).isDisjoint(with: Set(b.map(\.id))))
        #expect(a.count + b.count == 100)
        let byID = Dictionary(uniqueKeysWithValues: messages.map { ($0.id, $0.content) })
        #expect((a + b).allSatisfy { byID[$0.id] == $0.content })

        var outcomes = OutcomeBatch()
        outcomes.sent = ids.prefix(50).map { .init(messageID: $0, tenantID: tenant, accountID: UUID(), providerMessageID: "p") }
        outcomes.deferred = ids.suffix(50).map { .init(messageID: $0, tenantID: tenant, reason: "503", nextAttemptAt: Date().addingTimeInterval(600)) }
        try await store.record(outcomes)
        #expect(try await store.claim(ids, lease: 60).isEmpty)
        let retry = try await store.unclaimedRetryTimes(ids)
        #expect(ids.prefix(50).allSatisfy { retry[$0]! == nil })
        #expect(ids.suffix(50).allSatisfy { (retry[$0]! ?? .distantPast) > Date().addingTimeInterval(500) })
        let events = try await pool.query("SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY type")
        #expect(try events.map { "\(try $0.string("type"))=\(try $0.int("n"))" } == ["deferred=50"])
        await pool.shutdown()
    }

    /// The claim writes only the lease (migration 23): no indexed column changes, so every claim
    /// of a freshly inserted row is a HOT update, and the row shows `sending` while it is held.
    /// Rows a worker of an older version stored as `sending` are claimed once their lease lapses.
    @Test func claimsAreHOTUpdatesAndTakeRowsAnOlderWorkerLeftSending() async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: "it-claim-hot")
        try await Migrator(pool: pool).migrate()
        let tenant = try await TenantStore(pool: pool).createTenant(name: "hot")
        let store = MessageStore(pool: pool)
        let messages = (0..<42).map { Message(id: UUID(), tenantID: tenant, priority: .bulk, status: .queued, content: content($0)) }
        _ = try await store.accept([AcceptRequest(tenantID: tenant, idempotencyKey: nil, requestHash: "h", responseStatus: 202, responseBody: "{}", messages: messages)])
        let ids = messages.map(\.id)
        func updates() async throws -> (all: Int, hot: Int) {
            let row = try await pool.query("SELECT sum(n_tup_upd)::int AS n_tup_upd, sum(n_tup_hot_upd)::int AS n_tup_hot_upd FROM pg_stat_user_tables WHERE relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'messages'::regclass)").first!
            return (try row.int("n_tup_upd"), try row.int("n_tup_hot_upd"))
        }
        let before = try await updates()
        #expect(Set(try await store.claim(Array(ids.prefix(40)), lease: 60).map(\.id)) == Set(ids.prefix(40)))
        // A backend reports its table statistics when it next goes idle, within a second or so.
        var after = try await updates()
        let deadline = Date().addingTimeInterval(30)
        while after.all - before.all < 40 && Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
            after = try await updates()
        }
        #expect(after.all - before.all == 40)
        #expect(after.hot - before.hot == 40)
        let counts = try await store.countsByStatus()
        #expect(counts["sending"] == 40 && counts["queued"] == 2)

        // An older worker's claims: one under a lapsed lease, one under a live one.
        try await pool.query("UPDATE messages SET status = 'sending', lease_until = now() - interval '1 second' WHERE id = $1", [ids[40]])
        try await pool.query("UPDATE messages SET status = 'sending', lease_until = now() + interval '1 minute' WHERE id = $1", [ids[41]])
        #expect(try await store.claim(ids, lease: 60).map(\.id) == [ids[40]])
        let stored = try await pool.query("SELECT status, lease_until > now() AS leased FROM messages WHERE id = $1", [ids[40]]).first!
        #expect(try stored.string("status") == "queued" && stored.bool("leased"))
        #expect(try await store.countsByStatus() == ["sending": 42])
        await pool.shutdown()
    }

    @Test func aGroupMixingKeysInsertsWinnersAndAnswersLosersFromTheStoredAnswers() async throws {
        let url = try await TestEnvironment.freshDatabase()
        let pool = PostgresPool(url: url, size: 2, name: "it-accept-group")
        try await Migrator(pool: pool).migrate()
        let tenants = TenantStore(pool: pool)
        let (t1, t2) = (try await tenants.createTenant(name: "one"), try await tenants.createTenant(name: "two"))
        let store = MessageStore(pool: pool)
        func request(_ tenant: UUID, _ key: String?, hash: String, body: String) -> AcceptRequest {
            AcceptRequest(
                tenantID: tenant, idempotencyKey: key, requestHash: hash, responseStatus: 202, responseBody: body,
                messages: [Message(id: UUID(), tenantID: tenant, priority: .bulk, status: .queued, content: content())])
        }
        // Earlier requests hold "a" and "b" of tenant one.
        #expect(try await store.accept([request(t1, "a", hash: "ha", body: "A"), request(t1, "b", hash: "hb", body: "B")]) == [.created, .created])
        let results = try await store.accept([
            request(t1, "a", hash: "ha", body: "ignored"),  // replay
            request(t1, "b", hash: "other", body: "ignored"),  // key reused with another body
            request(t1, "c", hash: "hc", body: "C"),  // new key
            request(t1, "c", hash: "hc", body: "C again"),  // same new key in the same group
            request(t2, "a", hash: "ha", body: "theirs"),  // tenant two's own "a"
            request(t1, nil, hash: "hn", body: "N"),  // no key
        ])
        #expect(results == [
            .replay(sameRequest: true, status: 202, body: "A"), .replay(sameRequest: false, status: 202, body: "B"), .created,
            .replay(sameRequest: true, status: 202, body: "C"), .created, .created,
        ])
        // Two earlier messages, then one each for "c", tenant two's "a" and the keyless request.
        #expect(try await pool.query("SELECT count(*) AS n FROM messages").first!.int("n") == 5)
        await pool.shutdown()
    }

    @Test func bodiesAreStoredOncePerTenantAndReadBackWhole() async throws {
        let url = try await TestEnvironment.freshDatabase()
        let pool = PostgresPool(url: url, size: 2, name: "it-bodies")
        try await Migrator(pool: pool).migrate()
        let tenants = TenantStore(pool: pool)
        let (t1, t2) = (try await tenants.createTenant(name: "one"), try await tenants.createTenant(name: "two"))
        let pdf = MessageAttachment(filename: "a.pdf", contentType: "application/pdf", data: Data([1, 2, 3]))
        func campaign(_ i: Int, tenant: UUID, html: String) -> Message {
            var c = content(i)
            c.html = html
            c.text = "shared text"
            c.attachments = [pdf]
            c.metadata = ["n": "\(i)"]
            return Message(id: UUID(), tenantID: tenant, priority: .bulk, status: .queued, content: c)
        }
        // 300 messages of one body and 2 of another for tenant one; the first body for tenant two too.
        let first = (0..<300).map { campaign($0, tenant: t1, html: "<p>campaign</p>") } + (300..<302).map { campaign($0, tenant: t1, html: "<p>other</p>") }
        let second = (0..<3).map { campaign($0, tenant: t2, html: "<p>campaign</p>") }
        let store = MessageStore(pool: pool)
        let results = try await store.accept([
            AcceptRequest(tenantID: t1, idempotencyKey: nil, requestHash: "a", responseStatus: 202, responseBody: "{}", messages: first),
            AcceptRequest(tenantID: t2, idempotencyKey: nil, requestHash: "b", responseStatus: 202, responseBody: "{}", messages: second),
        ])
        #expect(results == [.created, .created])
        let bodies = try await pool.query("SELECT tenant_id, count(*) AS n FROM message_bodies GROUP BY tenant_id")
        let perTenant = Dictionary(uniqueKeysWithValues: try bodies.map { (try $0.uuid("tenant_id"), try $0.int("n")) })
        #expect(perTenant == [t1: 2, t2: 1])
        // Rows hold only the envelope.
        let widest = try await pool.query("SELECT max(length(content::text)) AS n FROM messages").first!.int("n")
        #expect(widest < 200, "envelope of \(widest) bytes")
        // A second accept of the same body adds no body row.
        _ = try await store.accept([AcceptRequest(tenantID: t1, idempotencyKey: nil, requestHash: "c", responseStatus: 202, responseBody: "{}", messages: [campaign(9, tenant: t1, html: "<p>campaign</p>")])])
        #expect(try await pool.query("SELECT count(*) AS n FROM message_bodies").first!.int("n") == 3)

        // Claims give back whole messages, each body read once per claim.
        let all = first + second
        let byID = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0.content) })
        let claimed = try await store.claim(Array(all.prefix(150).map(\.id)), lease: 60)
        let rest = try await store.claim(Array(all.dropFirst(150).map(\.id)), lease: 60)
        #expect(claimed.count + rest.count == all.count)
        #expect((claimed + rest).allSatisfy { byID[$0.id] == $0.content })
        let shown = try await store.message(id: first[301].id, tenantID: t1)
        #expect(shown?.message.content == first[301].content)
        #expect(try await store.message(id: first[301].id, tenantID: t2) == nil)

        // Rows written before bodies were split (whole content, no body key) still read whole.
        var legacy = campaign(7, tenant: t1, html: "<p>legacy</p>")
        legacy.content.tags = ["old"]
        let encoded = String(decoding: try JSONEncoder().encode(legacy.content), as: UTF8.self)
        try await pool.query(
            "INSERT INTO messages (id, tenant_id, status, priority, content) VALUES ($1, $2, 'queued', 'bulk', $3::json)",
            [legacy.id, t1, encoded])
        #expect(try await store.claim([legacy.id], lease: 60).first?.content == legacy.content)
        #expect(try await store.message(id: legacy.id, tenantID: t1)?.message.content == legacy.content)
        await pool.shutdown()
    }

    @Test func concurrentRequestsShareCommits() async throws {
        let url = try await TestEnvironment.freshDatabase()
        let pool = PostgresPool(url: url, size: 4, name: "it-group")
        try await Migrator(pool: pool).migrate()
        let tenant = try await TenantStore(pool: pool).createTenant(name: "t")
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 2, name: "it-group")
        let queue = MessageQueue(redis: redis, partitioning: Partitioning(count: 4), prefix: "it\(UUID().uuidString.prefix(6))")
        let metrics = TestMetrics()
        let pipeline = withMetricsFactory(metrics) {
            AcceptPipeline(store: MessageStore(pool: pool), queue: queue, logger: Logger(label: "test"))
        }
        let results = try await withThrowingTaskGroup(of: AcceptResult.self) { group in
            for i in 0..<200 {
                group.addTask {
                    let message = Message(id: UUID(), tenantID: tenant, priority: .transactional, status: .queued, content: content(i))
                    return try await pipeline.submit(AcceptRequest(tenantID: tenant, idempotencyKey: nil, requestHash: "h\(i)", responseStatus: 202, responseBody: "{}", messages: [message]))
                }
            }
            var all: [AcceptResult] = []
            for try await r in group { all.append(r) }
            return all
        }
        #expect(results.count == 200 && results.allSatisfy { $0 == .created })
        #expect(try await pool.query("SELECT count(*) AS n FROM messages").first!.int("n") == 200)
        #expect(try await queue.depth().readyTransactional == 200)
        let commits = try metrics.expectRecorder("mailfleet_accept_group_requests").values.count
        #expect(try metrics.expectCounter("mailfleet_messages_accepted_total").totalValue == 200)
        #expect(try metrics.expectCounter("mailfleet_tenant_messages_accepted_total", [("tenant_id", tenant.uuidString.lowercased())]).totalValue == 200)
        #expect(commits > 0 && commits < 200, "200 concurrent requests took \(commits) commits")
        redis.shutdown()
        await pool.shutdown()
    }
}
