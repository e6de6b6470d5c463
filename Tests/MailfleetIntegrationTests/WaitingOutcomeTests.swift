import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetStore
import Testing

@Suite("Waits recorded without an attempt", .serialized)
struct WaitingOutcomeTests {
    @Test func aWaitDefersWithItsReasonAndLeavesAttemptsWhileAFailureCountsOne() async throws {
        let url = try await TestEnvironment.freshDatabase()
        let pool = PostgresPool(url: url, size: 2, name: "it-wait")
        try await Migrator(pool: pool).migrate()
        let tenant = try await TenantStore(pool: pool).createTenant(name: "t")
        let store = MessageStore(pool: pool)
        let messages = (0..<4).map { Message(id: UUID(), tenantID: tenant, priority: .bulk, status: .queued, content: content($0)) }
        _ = try await store.accept([AcceptRequest(tenantID: tenant, idempotencyKey: nil, requestHash: "h", responseStatus: 202, responseBody: "{}", messages: messages)])
        let ids = messages.map(\.id)
        #expect(try await store.claim(ids, lease: 60).count == 4)

        let due = Date().addingTimeInterval(600)
        var outcomes = OutcomeBatch()
        outcomes.deferred = ids.prefix(2).map {
            .init(messageID: $0, tenantID: tenant, reason: FailoverPlan.noAccountReason, nextAttemptAt: due, countsAsAttempt: false)
        } + ids.suffix(2).map { .init(messageID: $0, tenantID: tenant, reason: "sendgrid 503", nextAttemptAt: due) }
        try await store.record(outcomes)

        let rows = try await pool.query("SELECT id, status, attempts, last_error FROM messages")
        var attempts: [UUID: Int] = [:]
        for row in rows {
            let id = try row.uuid("id")
            attempts[id] = try row.int("attempts")
            #expect(try row.string("status") == "queued")
            #expect(try row.string("last_error") == (ids.prefix(2).contains(id) ? FailoverPlan.noAccountReason : "sendgrid 503"))
        }
        #expect(ids.prefix(2).map { attempts[$0] } == [0, 0])
        #expect(ids.suffix(2).map { attempts[$0] } == [1, 1])
        // Both kinds leave a `deferred` event with the reason, so the history says why it waits.
        let events = try await pool.query("SELECT count(*) AS n FROM events WHERE type = 'deferred'")
        #expect(try events.first!.int("n") == 4)
        await pool.shutdown()
    }

    @Test func aHoldIsTimedApartFromRetryAgeAndWritesOneEvent() async throws {
        let url = try await TestEnvironment.freshDatabase()
        let pool = PostgresPool(url: url, size: 2, name: "it-hold")
        try await Migrator(pool: pool).migrate()
        let tenant = try await TenantStore(pool: pool).createTenant(name: "t")
        let store = MessageStore(pool: pool)
        let message = Message(id: UUID(), tenantID: tenant, priority: .bulk, status: .queued, content: content(0))
        _ = try await store.accept([AcceptRequest(tenantID: tenant, idempotencyKey: nil, requestHash: "h", responseStatus: 202, responseBody: "{}", messages: [message])])

        // First look: not held yet, so the wait begins a hold and writes its event.
        var claimed = try #require(try await store.claim([message.id], lease: 60).first)
        #expect(claimed.heldSince == nil && claimed.heldSeconds == 0)
        try await store.record(plan(claimed, .waiting(reason: "bulk paused", until: Date())))
        // Pretend the hold began an hour ago, then look again: still held, no second event.
        try await pool.query("UPDATE messages SET held_since = now() - interval '1 hour', next_attempt_at = now()")
        claimed = try #require(try await store.claim([message.id], lease: 60).first)
        let since = try #require(claimed.heldSince)
        #expect(abs(Date().timeIntervalSince(since) - 3600) < 60)
        try await store.record(plan(claimed, .waiting(reason: "bulk paused", until: Date())))
        #expect(try await count("SELECT count(*) AS n FROM events WHERE type = 'deferred'", pool) == 1)

        // A failed attempt ends the hold: its hour moves into held_seconds, and the retry age
        // no longer counts it.
        try await pool.query("UPDATE messages SET next_attempt_at = now()")
        claimed = try #require(try await store.claim([message.id], lease: 60).first)
        try await store.record(plan(claimed, .retryable(reason: "sendgrid 503", retryAfter: nil)))
        try await pool.query("UPDATE messages SET next_attempt_at = now()")
        claimed = try #require(try await store.claim([message.id], lease: 60).first)
        #expect(claimed.heldSince == nil)
        #expect(abs(claimed.heldSeconds - 3600) < 60)
        #expect(claimed.retryAge(at: Date()) < 60)
        #expect(claimed.attempts == 1)
        #expect(try await count("SELECT count(*) AS n FROM events WHERE type = 'deferred'", pool) == 2)
        await pool.shutdown()
    }

    private func plan(_ message: Message, _ outcome: DeliveryOutcome) -> OutcomeBatch {
        var rng = SystemRandomNumberGenerator()
        return DeliveryPlan.make(messages: [message], results: [message.id: (outcome, nil)], policy: RetryPolicy(), now: Date(), rng: &rng).outcomes
    }

    private func count(_ sql: String, _ pool: PostgresPool) async throws -> Int {
        try await pool.query(sql).first!.int("n")
    }
}
