import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetStore
import Testing

/// Quotas counted in the accept statement against the real Postgres, on a clock the tests set:
/// whole-request refusals, period boundaries, replays, and exact counts under concurrency.
@Suite("Quotas in the store", .serialized)
struct QuotaStoreTests {
    func request(_ tenant: UUID, _ count: Int, key: String? = nil, suppressed: Int = 0) -> AcceptRequest {
        let messages = (0..<count).map { i in
            Message(id: UUID(), tenantID: tenant, priority: .bulk, status: i < suppressed ? .suppressed : .queued, content: content(i))
        }
        return AcceptRequest(tenantID: tenant, idempotencyKey: key, requestHash: "h\(count)", responseStatus: 202, responseBody: "{}", messages: messages)
    }

    func at(_ text: String) throws -> Date { try #require(ISO8601.parse(text)) }

    func messageCount(_ pool: PostgresPool, _ tenant: UUID) async throws -> Int {
        try await pool.query("SELECT count(*) AS n FROM messages WHERE tenant_id = $1", [tenant]).first!.int("n")
    }

    @Test func requestsOverAQuotaAreRefusedWholeAndTheNextPeriodAdmitsAgain() async throws {
        let db = try await TwoTenants.make()
        let store = MessageStore(pool: db.pool), tenants = TenantStore(pool: db.pool)
        #expect(try await tenants.setQuota(tenantID: db.a, TenantQuota(daily: 3, monthly: 5)))
        #expect(try await tenants.setQuota(tenantID: UUID(), TenantQuota(daily: 1)) == false)

        let june30 = try at("2026-06-30T23:00:00Z")
        #expect(try await store.accept([request(db.a, 2)], now: june30) == [.created])
        let refused = try await store.accept([request(db.a, 2)], now: june30)
        #expect(refused == [.overQuota(QuotaRefusal(period: .daily, limit: 3, used: 2, requested: 2, resetsAt: try at("2026-07-01T00:00:00Z")))])
        #expect(try await store.accept([request(db.a, 1)], now: june30) == [.created])
        #expect(try await messageCount(db.pool, db.a) == 3)
        let full = try #require(try await tenants.quotaUsage(tenantID: db.a, now: june30))
        #expect(full.map(\.used) == [3, 3] && full.map(\.limit) == [3, 5] && full.map(\.remaining) == [0, 2])

        // Half an hour later it is a new UTC day and a new month: both counts start again.
        let july1 = try at("2026-07-01T00:30:00Z")
        #expect(try await store.accept([request(db.a, 3)], now: july1) == [.created])
        // The next day has room, July does not: 3 + 3 > 5.
        let july2 = try at("2026-07-02T09:00:00Z")
        guard case .overQuota(let monthly)? = try await store.accept([request(db.a, 3)], now: july2).first else {
            Issue.record("the monthly quota did not refuse")
            return
        }
        let august = try at("2026-08-01T00:00:00Z")
        #expect(monthly.period == .monthly && monthly.used == 3 && monthly.resetsAt == august)
        #expect(try await store.accept([request(db.a, 2)], now: july2) == [.created])
        let usage = try #require(try await tenants.quotaUsage(tenantID: db.a, now: july2))
        #expect(usage.map(\.used) == [2, 5])
        #expect(try await messageCount(db.pool, db.a) == 8)

        // Removing the quota admits again; the count goes on.
        #expect(try await tenants.setQuota(tenantID: db.a, TenantQuota()))
        #expect(try await store.accept([request(db.a, 4)], now: july2) == [.created])
        #expect(try await tenants.quotaUsage(tenantID: db.a, now: july2)?.map(\.used) == [6, 9])
        await db.pool.shutdown()
    }

    @Test func aGroupIsDecidedRequestByRequestAndARefusedKeyIsFreeForARetry() async throws {
        let db = try await TwoTenants.make()
        let store = MessageStore(pool: db.pool), tenants = TenantStore(pool: db.pool)
        #expect(try await tenants.setQuota(tenantID: db.a, TenantQuota(daily: 3)))
        let now = try at("2026-06-10T10:00:00Z")
        // One group commit: tenant a's second request would cross its quota, its third still
        // fits; tenant b has no quota; suppressed messages are not counted (never sent).
        let results = try await store.accept(
            [request(db.a, 2), request(db.a, 2, key: "k-over"), request(db.b, 7), request(db.a, 3, suppressed: 2)], now: now)
        #expect(results.count == 4)
        #expect(results[0] == .created && results[2] == .created && results[3] == .created)
        guard case .overQuota(let refusal) = results[1] else {
            Issue.record("the second request was not refused: \(results[1])")
            return
        }
        #expect(refusal.used == 2 && refusal.requested == 2)
        #expect(try await messageCount(db.pool, db.a) == 5)
        #expect(try await tenants.quotaUsage(tenantID: db.a, now: now)?.first?.used == 3)
        #expect(try await tenants.quotaUsage(tenantID: db.b, now: now)?.first == QuotaUsage(
            period: .daily, limit: nil, used: 7, resetsAt: try at("2026-06-11T00:00:00Z")))

        // The refused request stored nothing, not even its key: tomorrow the same key is a new request.
        let tomorrow = try at("2026-06-11T10:00:00Z")
        #expect(try await store.accept([request(db.a, 2, key: "k-over")], now: tomorrow) == [.created])
        // And now it is a replay, which counts nothing more.
        #expect(try await store.accept([request(db.a, 2, key: "k-over")], now: tomorrow) == [.replay(sameRequest: true, status: 202, body: "{}")])
        #expect(try await tenants.quotaUsage(tenantID: db.a, now: tomorrow)?.first?.used == 2)
        await db.pool.shutdown()
    }

    @Test func concurrentAcceptsAreCountedExactly() async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 6, name: "it-quota")
        try await Migrator(pool: pool).migrate()
        let db = TwoTenants(pool: pool, a: try await TenantStore(pool: pool).createTenant(name: "a"), b: try await TenantStore(pool: pool).createTenant(name: "b"))
        let store = MessageStore(pool: pool), tenants = TenantStore(pool: pool)
        #expect(try await tenants.setQuota(tenantID: db.a, TenantQuota(daily: 50)))
        let now = Date()
        // 24 requests of 5 for the limited tenant and 24 for the unlimited one, all at once.
        let results = try await withThrowingTaskGroup(of: (UUID, AcceptResult).self) { group in
            for i in 0..<48 {
                let tenant = i % 2 == 0 ? db.a : db.b
                group.addTask { (tenant, try await store.accept([request(tenant, 5)], now: now)[0]) }
            }
            var all: [(UUID, AcceptResult)] = []
            for try await result in group { all.append(result) }
            return all
        }
        let limited = results.filter { $0.0 == db.a }.map(\.1)
        #expect(limited.filter { $0 == .created }.count == 10)
        #expect(limited.filter { if case .overQuota = $0 { return true } else { return false } }.count == 14)
        #expect(results.filter { $0.0 == db.b }.allSatisfy { $0.1 == .created })
        #expect(try await messageCount(pool, db.a) == 50)
        #expect(try await tenants.quotaUsage(tenantID: db.a, now: now)?.map(\.used) == [50, 50])
        // The unlimited tenant's counts are spread over slots and summed back exactly.
        #expect(try await tenants.quotaUsage(tenantID: db.b, now: now)?.map(\.used) == [120, 120])
        #expect(try await tenants.limitedTenantsUsage(now: now).keys.sorted { $0.uuidString < $1.uuidString } == [db.a])
        await pool.shutdown()
    }
}
