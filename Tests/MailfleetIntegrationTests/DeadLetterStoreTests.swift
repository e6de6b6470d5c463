import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetRedis
import MailfleetStore
import Testing

/// Dead letters against the real Postgres: failed rows listed by filter, re-driven in batches
/// (reset, event, audit entry, idempotent, bounded by the re-drive's start), retried by a
/// tenant under row-level security, purged after their retention; and a tenant's messages paged.
@Suite("Dead letters in Postgres", .serialized)
struct DeadLetterStoreTests {
    /// Accepts `count` messages for `tenant` and fails them through the worker's outcome write.
    func failed(_ db: TwoTenants, tenant: UUID, count: Int, reason: String) async throws -> [UUID] {
        let store = MessageStore(pool: db.pool)
        let messages = (0..<count).map { Message(id: UUID(), tenantID: tenant, priority: .bulk, status: .queued, content: content($0)) }
        _ = try await store.accept([AcceptRequest(tenantID: tenant, idempotencyKey: nil, requestHash: "h", responseStatus: 202, responseBody: "{}", messages: messages)])
        var outcomes = OutcomeBatch()
        outcomes.failed = messages.map { OutcomeBatch.Failed(messageID: $0.id, tenantID: tenant, reason: reason) }
        try await store.record(outcomes)
        return messages.map(\.id)
    }

    /// A JSON object of strings.
    static func strings(_ json: String) throws -> [String: String] {
        try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String])
    }

    /// Makes messages look as if they failed `days` days ago.
    func age(_ db: TwoTenants, _ ids: [UUID], days: Int) async throws {
        try await db.pool.query("UPDATE messages SET updated_at = now() - make_interval(days => $2) WHERE id = ANY($1::uuid[])", [ids, days])
    }

    @Test func listingFiltersByTenantReasonAndTimeNewestFirst() async throws {
        let db = try await TwoTenants.make()
        let store = MessageStore(pool: db.pool)
        let bounced = try await failed(db, tenant: db.a, count: 3, reason: "alice@example.com: 406 Inactive Recipient")
        let exhausted = try await failed(db, tenant: db.a, count: 2, reason: "attempts exhausted (8): 503 from sim")
        let other = try await failed(db, tenant: db.b, count: 1, reason: "406 inactive recipient")
        try await age(db, exhausted, days: 3)
        try await age(db, [bounced[0]], days: 1)
        // Not failed: never listed.
        _ = try await store.accept([AcceptRequest(tenantID: db.a, idempotencyKey: nil, requestHash: "h", responseStatus: 202, responseBody: "{}", messages: [
            Message(id: UUID(), tenantID: db.a, priority: .bulk, status: .queued, content: content()),
        ])])

        #expect(try await store.countDeadLetters() == 6)
        let all = try await store.deadLetters(matching: DeadLetterFilter(), limit: 100)
        #expect(all.count == 6)
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.updatedAt >= $1.updatedAt })
        #expect(Set(all.suffix(2).map(\.message.id)) == Set(exhausted))
        #expect(all.allSatisfy { $0.message.status == .failed && $0.lastError != nil })

        let ofA = try await store.deadLetters(matching: DeadLetterFilter(tenantID: db.a), limit: 100)
        #expect(Set(ofA.map(\.message.id)) == Set(bounced + exhausted))
        // Substring, case-insensitive.
        let inactive = try await store.deadLetters(matching: DeadLetterFilter(reason: "INACTIVE recip"), limit: 100)
        #expect(Set(inactive.map(\.message.id)) == Set(bounced + other))
        #expect(try await store.countDeadLetters(matching: DeadLetterFilter(tenantID: db.a, reason: "inactive")) == 3)
        // Failure time: since is inclusive, until exclusive.
        let now = try await store.databaseTime()
        let recent = try await store.deadLetters(matching: DeadLetterFilter(since: now.addingTimeInterval(-3600)), limit: 100)
        #expect(Set(recent.map(\.message.id)) == Set(bounced.dropFirst() + other))
        let older = try await store.deadLetters(matching: DeadLetterFilter(until: now.addingTimeInterval(-3600)), limit: 100)
        #expect(Set(older.map(\.message.id)) == Set(exhausted + [bounced[0]]))
        let window = DeadLetterFilter(since: now.addingTimeInterval(-2 * 86_400), until: now.addingTimeInterval(-3600))
        #expect(try await store.deadLetters(matching: window, limit: 100).map(\.message.id) == [bounced[0]])
        #expect(try await store.deadLetters(matching: DeadLetterFilter(ids: [other[0], bounced[1]]), limit: 100).count == 2)
        #expect(try await store.deadLetters(matching: DeadLetterFilter(), limit: 2).count == 2)
        #expect(try await store.tenant(ofMessage: other[0]) == db.b)
        #expect(try await store.tenant(ofMessage: UUID()) == nil)
        await db.pool.shutdown()
    }

    @Test func redriveResetsInBatchesKeepsTheErrorInAnEventAuditsAndIsIdempotent() async throws {
        let db = try await TwoTenants.make()
        let store = MessageStore(pool: db.pool)
        let ids = try await failed(db, tenant: db.a, count: 5, reason: "406 inactive recipient")
        let untouched = try await failed(db, tenant: db.b, count: 2, reason: "406 inactive recipient")
        let filter = DeadLetterFilter(tenantID: db.a).failed(before: try await store.databaseTime())

        var batches: [[MessageQueue.Item]] = []
        while true {
            let batch = try await store.redriveDeadLetters(matching: filter, limit: 2, actor: "cli:test")
            if batch.isEmpty { break }
            batches.append(batch)
        }
        #expect(batches.map(\.count) == [2, 2, 1])
        #expect(Set(batches.flatMap { $0.map(\.id) }) == Set(ids))
        #expect(batches.joined().allSatisfy { $0.priority == .bulk && $0.dueAt == nil })

        let rows = try await db.pool.query(
            """
            SELECT status, attempts, last_error, lease_until, next_attempt_at <= now() AS due,
                redriven_at BETWEEN now() - interval '1 minute' AND now() AS redriven
            FROM messages WHERE id = ANY($1::uuid[])
            """, [ids])
        #expect(rows.count == 5)
        for row in rows {
            #expect(try row.string("status") == "queued")
            #expect(try row.int("attempts") == 0)
            #expect(row.optionalString("last_error") == nil)
            #expect(row.optionalString("lease_until") == nil)
            #expect(try row.bool("due"))
            // The retry policy's maximum age starts again here, and the claim hands it to the worker.
            #expect(try row.bool("redriven"))
        }
        let claimed = try await store.claim([ids[0]], lease: 30)
        #expect(claimed.first?.redrivenAt != nil)
        // The error it failed with, in the history; one audit entry per batch.
        let record = try #require(try await store.message(id: ids[0], tenantID: db.a))
        let event = try #require(record.events.first { $0.type == "redriven" })
        #expect(try Self.strings(event.detail) == ["reason": "406 inactive recipient", "attempts": "1", "by": "cli:test"])
        let audit = try await AuditLog(pool: db.pool).entries(tenantID: db.a).filter { $0.action == "message.redriven" }
        #expect(audit.count == 3 && audit.allSatisfy { $0.actor == "cli:test" })
        #expect(try audit.map { try Self.strings($0.detailJSON)["messages"] }.sorted { ($0 ?? "") < ($1 ?? "") } == ["1", "2", "2"])
        #expect(try audit.allSatisfy { try Self.strings($0.detailJSON)["filter"]?.hasPrefix("tenant=\(db.a.lowercasedString), until=") == true })

        // Again: nothing is failed any more. The other tenant's were not touched.
        #expect(try await store.redriveDeadLetters(matching: filter, limit: 100, actor: "cli:test").isEmpty)
        #expect(try await store.countDeadLetters(matching: DeadLetterFilter(tenantID: db.b)) == untouched.count)
        await db.pool.shutdown()
    }

    @Test func aRedriveDoesNotTakeAMessageThatFailedAgainAfterItBegan() async throws {
        let db = try await TwoTenants.make()
        let store = MessageStore(pool: db.pool)
        let ids = try await failed(db, tenant: db.a, count: 2, reason: "boom")
        let started = try await store.databaseTime()
        let filter = DeadLetterFilter(reason: "boom").failed(before: started)
        let first = try #require(try await store.redriveDeadLetters(matching: filter, limit: 1, actor: "t").first?.id)
        // It fails again at once (a provider still refusing it) while the re-drive goes on.
        try await Task.sleep(for: .milliseconds(20))
        var outcomes = OutcomeBatch()
        outcomes.failed = [OutcomeBatch.Failed(messageID: first, tenantID: db.a, reason: "boom again")]
        try await store.record(outcomes)
        #expect(try await store.redriveDeadLetters(matching: filter, limit: 1, actor: "t").map(\.id) == ids.filter { $0 != first })
        #expect(try await store.redriveDeadLetters(matching: filter, limit: 1, actor: "t").isEmpty)
        #expect(try await store.deadLetters(matching: DeadLetterFilter(), limit: 10).map(\.message.id) == [first])
        await db.pool.shutdown()
    }

    @Test func aTenantRetriesOnlyItsOwnFailedMessageUnderRowLevelSecurity() async throws {
        let db = try await TwoTenants.make()
        let store = MessageStore(pool: db.pool)
        let mine = try await failed(db, tenant: db.a, count: 1, reason: "406")[0]
        let theirs = try await failed(db, tenant: db.b, count: 1, reason: "406")[0]
        #expect(try await store.retry(messageID: theirs, tenantID: db.a, actor: "api:k") == .notFound)
        #expect(try await store.retry(messageID: UUID(), tenantID: db.a, actor: "api:k") == .notFound)
        #expect(try await store.retry(messageID: mine, tenantID: db.a, actor: "api:k") == .redriven(MessageQueue.Item(id: mine, priority: .bulk, tenantID: db.a)))
        #expect(try await store.retry(messageID: mine, tenantID: db.a, actor: "api:k") == .notFailed(.queued))
        // The event and the audit entry were written as the tenant role.
        #expect(try await store.message(id: mine, tenantID: db.a)?.events.contains { $0.type == "redriven" } == true)
        let audit = try await AuditLog(pool: db.pool).entries(tenantID: db.a)
        #expect(audit.first?.action == "message.redriven" && audit.first?.target == mine.lowercasedString && audit.first?.actor == "api:k")
        #expect(try await store.countDeadLetters(matching: DeadLetterFilter(tenantID: db.b)) == 1)
        await db.pool.shutdown()
    }

    @Test func retentionDeletesOnlyOldFailedMessagesWithTheirEventsInBatches() async throws {
        let db = try await TwoTenants.make()
        let store = MessageStore(pool: db.pool)
        let old = try await failed(db, tenant: db.a, count: 3, reason: "old")
        let young = try await failed(db, tenant: db.b, count: 1, reason: "young")
        try await age(db, old, days: 31)
        try await age(db, young, days: 29)
        // A sent message just as old stays: retention is for dead letters only.
        let sent = Message(id: UUID(), tenantID: db.a, priority: .bulk, status: .queued, content: content())
        _ = try await store.accept([AcceptRequest(tenantID: db.a, idempotencyKey: nil, requestHash: "h", responseStatus: 202, responseBody: "{}", messages: [sent])])
        try await db.pool.query("UPDATE messages SET status = 'sent', updated_at = now() - interval '90 days' WHERE id = $1", [sent.id])

        #expect(try await store.purgeDeadLetters(olderThanDays: 30, limit: 2) == 2)
        #expect(try await store.purgeDeadLetters(olderThanDays: 30, limit: 2) == 1)
        #expect(try await store.purgeDeadLetters(olderThanDays: 30, limit: 2) == 0)
        let left = Set(try await db.pool.query("SELECT id FROM messages").map { try $0.uuid("id") })
        #expect(left == Set(young + [sent.id]))
        let events = try await db.pool.query("SELECT count(*) AS n FROM events WHERE message_id = ANY($1::uuid[])", [old]).first!.int("n")
        #expect(events == 0)
        #expect(try await db.pool.query("SELECT count(*) AS n FROM events WHERE message_id = ANY($1::uuid[])", [young]).first!.int("n") == 1)
        await db.pool.shutdown()
    }

    @Test func aTenantsMessagesArePagedNewestFirstByStatus() async throws {
        let db = try await TwoTenants.make()
        let store = MessageStore(pool: db.pool)
        // One commit, so several share a creation time: the id breaks the tie.
        let failedIDs = try await failed(db, tenant: db.a, count: 5, reason: "406")
        _ = try await failed(db, tenant: db.b, count: 2, reason: "406")
        let queued = Message(id: UUID(), tenantID: db.a, priority: .transactional, status: .queued, content: content())
        _ = try await store.accept([AcceptRequest(tenantID: db.a, idempotencyKey: nil, requestHash: "h", responseStatus: 202, responseBody: "{}", messages: [queued])])

        var seen: [UUID] = []
        var cursor: MessageCursor?
        var pages = 0
        repeat {
            let page = try await store.messages(tenantID: db.a, status: .failed, after: cursor, limit: 2)
            seen += page.map(\.record.message.id)
            cursor = page.count == 2 ? page.last?.cursor : nil
            pages += 1
        } while cursor != nil && pages < 10
        #expect(seen.count == 5 && Set(seen) == Set(failedIDs))
        #expect(pages == 3)

        let everything = try await store.messages(tenantID: db.a, status: nil, after: nil, limit: 100)
        #expect(everything.count == 6)
        #expect(everything.first?.record.message.id == queued.id)
        #expect(zip(everything, everything.dropFirst()).allSatisfy { $0.record.message.createdAt >= $1.record.message.createdAt })
        #expect(everything.allSatisfy { $0.record.message.tenantID == db.a })
        #expect(try await store.messages(tenantID: db.a, status: .sent, after: nil, limit: 100).isEmpty)
        let first = try #require(everything.first)
        #expect(first.record.message.content.subject == "S0" && first.record.message.content.to.map(\.email) == ["to0@example.com"])
        await db.pool.shutdown()
    }
}
