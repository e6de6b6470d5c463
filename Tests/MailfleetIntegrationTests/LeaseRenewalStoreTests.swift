import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetRedis
import MailfleetStore
import Testing

/// Lease renewal against the real Redis and Postgres: a renewal extends only what is still
/// leased to a live round, and never brings back an entry or a row the round has finished.
@Suite("Lease renewal", .serialized)
struct LeaseRenewalStoreTests {
    @Test func redisRenewsOnlyEntriesStillLeasedAndNeverShortensOne() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-renew")
        defer { redis.shutdown() }
        let queue = MessageQueue(redis: redis, partitioning: Partitioning(count: 2), prefix: "it-renew-\(UUID().uuidString.prefix(6))")
        let ids = (0..<6).map { _ in UUID() }
        let now = Date()
        try await queue.enqueue(ids.map { .init(id: $0, priority: $0 == ids[0] ? .transactional : .bulk, tenantID: UUID()) }, now: now)
        var fetched: [(id: UUID, priority: Priority)] = []
        for p in 0..<2 { fetched += try await queue.fetch(partition: p, max: 10, leaseSeconds: 2, now: now) }
        #expect(fetched.count == 6)

        // The round finishes some: acknowledged, rescheduled, dead-lettered, reclaimed.
        try await queue.acknowledge([fetched[0]])
        try await queue.reschedule([(fetched[1].id, fetched[1].priority, now.addingTimeInterval(3600))])
        try await queue.deadLetter([(fetched[2].id, fetched[2].priority, "refused")])
        let before = try await queue.depth()
        #expect(before.leased == 3 && before.delayed == 1)

        // Only the three still leased move, to a full lease from now.
        #expect(try await queue.renewLeases(fetched, leaseSeconds: 60, now: now) == 3)
        let after = try await queue.depth()
        #expect(after == before)
        for entry in fetched.suffix(3) {
            let key = queue.keys(queue.partitioning.partition(of: entry.id)).leased
            let score = try #require(try await redis.command("ZSCORE", key, MessageQueue.entry(id: entry.id, priority: entry.priority)).string.flatMap(Double.init))
            #expect(Int64(score) == Int64((now.timeIntervalSince1970 + 60) * 1000))
        }
        // A shorter lease never pulls a deadline back (another renewal may have gone further).
        #expect(try await queue.renewLeases(fetched, leaseSeconds: 5, now: now) == 0)
        // Nothing reclaims them at the first deadline any more.
        var reclaimed = 0
        for p in 0..<2 { reclaimed += try await queue.reclaimExpired(partition: p, now: now.addingTimeInterval(30)) }
        #expect(reclaimed == 0)
        for p in 0..<2 { reclaimed += try await queue.reclaimExpired(partition: p, now: now.addingTimeInterval(61)) }
        #expect(reclaimed == 3)
        // Once reclaimed, they are no longer leased: a late renewal does not lease them again.
        #expect(try await queue.renewLeases(fetched, leaseSeconds: 60, now: now.addingTimeInterval(62)) == 0)
        #expect(try await queue.depth().leased == 0)
    }

    @Test func postgresRenewsOnlyLiveLeasesOfMessagesStillBeingSent() async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: "it-renew-pg")
        try await Migrator(pool: pool).migrate()
        let tenant = try await TenantStore(pool: pool).createTenant(name: "renew")
        let store = MessageStore(pool: pool)
        let messages = (0..<8).map { Message(id: UUID(), tenantID: tenant, priority: .bulk, status: .queued, content: content($0)) }
        _ = try await store.accept([AcceptRequest(tenantID: tenant, idempotencyKey: nil, requestHash: "h", responseStatus: 202, responseBody: "{}", messages: messages)])
        let ids = messages.map(\.id)
        // Two are never claimed (still queued): nothing to renew there.
        #expect(try await store.claim(Array(ids.prefix(6)), lease: 2).count == 6)

        var outcomes = OutcomeBatch()
        outcomes.sent = [.init(messageID: ids[0], tenantID: tenant, accountID: UUID(), providerMessageID: "p")]
        outcomes.deferred = [.init(messageID: ids[1], tenantID: tenant, reason: "503", nextAttemptAt: Date().addingTimeInterval(600))]
        try await store.record(outcomes)
        // One lease has already lapsed: its worker is presumed dead, and another may claim it.
        try await pool.query("UPDATE messages SET lease_until = now() - interval '1 second' WHERE id = $1", [ids[2]])

        #expect(try await store.renewLeases(ids, lease: 120) == 3)
        let rows = try await pool.query(
            """
            SELECT id, \(MessageStore.shownStatus()) AS status, COALESCE(lease_until > now() + interval '100 seconds', false) AS renewed, lease_until IS NULL AS unleased
            FROM messages WHERE id = ANY($1::uuid[])
            """,
            [ids])
        var byID: [UUID: (status: String, renewed: Bool, unleased: Bool)] = [:]
        for row in rows { byID[try row.uuid("id")] = (try row.string("status"), try row.bool("renewed"), try row.bool("unleased")) }
        #expect(byID[ids[0]]?.status == "sent" && byID[ids[0]]?.unleased == true)
        #expect(byID[ids[1]]?.status == "queued" && byID[ids[1]]?.unleased == true)
        #expect(byID[ids[2]]?.renewed == false)
        #expect(ids[3...5].allSatisfy { byID[$0]?.status == "sending" && byID[$0]?.renewed == true })
        #expect(ids[6...7].allSatisfy { byID[$0]?.status == "queued" && byID[$0]?.unleased == true })
        // A renewal shorter than what is left changes nothing.
        #expect(try await store.renewLeases(ids, lease: 10) == 0)
        // The renewed ones cannot be claimed by another worker; the lapsed one (and the two
        // never claimed) can.
        #expect(Set(try await store.claim(ids, lease: 60).map(\.id)) == [ids[2], ids[6], ids[7]])
        await pool.shutdown()
    }
}
