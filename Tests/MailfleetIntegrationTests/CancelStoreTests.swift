import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetRedis
import MailfleetStore
import Testing

/// Cancellation in the store against the real Postgres and Redis: what can be cancelled, a
/// batch cancel, and cancels racing workers' claims on the same rows.
@Suite("Cancellation in the store", .serialized)
struct CancelStoreTests {
    func accept(_ store: MessageStore, _ tenant: UUID, _ count: Int, batch: String? = nil, sendAt: Date? = nil) async throws -> [Message] {
        let messages = (0..<count).map { i in
            Message(id: UUID.timeOrdered(at: Date()), tenantID: tenant, priority: .bulk, status: .queued, content: content(i), sendAt: sendAt, batchID: batch)
        }
        let results = try await store.accept([
            AcceptRequest(tenantID: tenant, idempotencyKey: nil, requestHash: "", responseStatus: 202, responseBody: "{}", messages: messages)
        ])
        #expect(results == [.created])
        return messages
    }

    func status(_ pool: PostgresPool, _ id: UUID) async throws -> String {
        try await pool.query("SELECT \(MessageStore.shownStatus()) AS status FROM messages WHERE id = $1", [id]).first!.string("status")
    }

    @Test func aQueuedMessageIsCancelledOnceAndNeverClaimed() async throws {
        let db = try await TwoTenants.make()
        let store = MessageStore(pool: db.pool)
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-cancel")
        defer { redis.shutdown() }
        let queue = MessageQueue(redis: redis, partitioning: Partitioning(count: 2), prefix: "it-cancel-\(UUID().uuidString.prefix(8))")
        let later = Date().addingTimeInterval(3600)
        let scheduled = try await accept(store, db.a, 1, sendAt: later)[0]
        try await queue.enqueue([MessageQueue.Item(id: scheduled.id, priority: .bulk, tenantID: db.a, dueAt: later)])
        #expect(try await queue.depth().delayed == 1)
        let entry = MessageQueue.entry(id: scheduled.id, priority: .bulk)
        let tenantKey = queue.keys(queue.partitioning.partition(of: scheduled.id)).tenants
        #expect(try await redis.command(["HEXISTS", tenantKey, entry]) == .integer(1))

        // Another tenant's key cannot see it.
        #expect(try await store.cancel(messageID: scheduled.id, tenantID: db.b, actor: "test") == .notFound)
        #expect(try await store.cancel(messageID: UUID(), tenantID: db.a, actor: "test") == .notFound)
        guard case .cancelled(let item) = try await store.cancel(messageID: scheduled.id, tenantID: db.a, actor: "api:k1") else {
            Issue.record("a scheduled message was not cancelled")
            return
        }
        #expect(item.id == scheduled.id && item.priority == .bulk && item.dueAt.map { abs($0.timeIntervalSince(later)) < 0.001 } == true)
        try await queue.forget([item])
        #expect(try await queue.depth().delayed == 0)
        // Its tenant goes with the entry.
        #expect(try await redis.command(["HEXISTS", tenantKey, entry]) == .integer(0))

        // Final, recorded with an event and an audit entry; a claim refuses it and the worker drops its entry.
        let record = try #require(try await store.message(id: scheduled.id, tenantID: db.a))
        #expect(record.message.status == .cancelled)
        #expect(record.events.map(\.type) == ["accepted", "cancelled"])
        #expect(record.events.last?.detail.contains("api:k1") == true)
        #expect(try await AuditLog(pool: db.pool).entries(tenantID: db.a).first?.action == "message.cancelled")
        try await db.pool.query("UPDATE messages SET next_attempt_at = now() WHERE id = $1", [scheduled.id])
        #expect(try await store.claim([scheduled.id], lease: 30).isEmpty)
        let retryTimes = try await store.unclaimedRetryTimes([scheduled.id])
        #expect(retryTimes.count == 1 && retryTimes[scheduled.id]! == nil)
        #expect(try await store.cancel(messageID: scheduled.id, tenantID: db.a, actor: "test") == .notCancellable(.cancelled))

        // Once a worker has claimed a message, a cancel is a request recorded on it (audited
        // once); the worker's outcome decides (below).
        let due = try await accept(store, db.a, 1)[0]
        #expect(try await store.claim([due.id], lease: 30).map(\.id) == [due.id])
        #expect(try await store.cancel(messageID: due.id, tenantID: db.a, actor: "test") == .requested)
        #expect(try await store.cancel(messageID: due.id, tenantID: db.a, actor: "again") == .requested)
        #expect(try await status(db.pool, due.id) == "sending")
        let audit = try await AuditLog(pool: db.pool).entries(tenantID: db.a)
        #expect(audit.filter { $0.action == "message.cancel_requested" }.count == 1)
        await db.pool.shutdown()
    }

    /// A cancel that reaches a claimed message is honoured by every outcome write that does not
    /// send it (a hold's wait, a retry) and by a claim after its worker died; a message whose
    /// provider call went through stays sent.
    @Test func aCancelRequestIsHonouredByTheNextWriteThatDoesNotSend() async throws {
        let db = try await TwoTenants.make()
        let store = MessageStore(pool: db.pool)
        let messages = try await accept(store, db.a, 4)
        let (held, retried, sent, orphan) = (messages[0].id, messages[1].id, messages[2].id, messages[3].id)
        #expect(try await store.claim(messages.map(\.id), lease: 30).count == 4)
        for id in [held, retried, sent, orphan] {
            #expect(try await store.cancel(messageID: id, tenantID: db.a, actor: "api:k9") == .requested)
        }

        var outcomes = OutcomeBatch()
        let later = Date().addingTimeInterval(60)
        outcomes.deferred = [
            .init(messageID: held, tenantID: db.a, reason: "send limit tenant: 1 messages/s", nextAttemptAt: later, countsAsAttempt: false, startsHold: true),
            .init(messageID: retried, tenantID: db.a, reason: "provider answered 503", nextAttemptAt: later),
        ]
        outcomes.sent = [.init(messageID: sent, tenantID: db.a, accountID: UUID(), providerMessageID: "p-1")]
        #expect(try await store.record(outcomes) == [held, retried])
        #expect(try await status(db.pool, held) == "cancelled")
        #expect(try await status(db.pool, retried) == "cancelled")
        #expect(try await status(db.pool, sent) == "sent")
        // The round's own event first, then the cancel with the requester's detail.
        let history = try #require(try await store.message(id: retried, tenantID: db.a)).events
        #expect(history.map(\.type) == ["accepted", "deferred", "cancelled"])
        #expect(history.last?.detail.contains("api:k9") == true)
        #expect(try await store.message(id: held, tenantID: db.a)?.events.last?.type == "cancelled")
        // Finished: a claim refuses them, a cancel calls them cancelled or sent.
        #expect(try await store.claim([held, retried], lease: 30).isEmpty)
        #expect(try await store.cancel(messageID: held, tenantID: db.a, actor: "test") == .notCancellable(.cancelled))
        #expect(try await store.cancel(messageID: sent, tenantID: db.a, actor: "test") == .notCancellable(.sent))
        // A later hold of a cancelled message (another worker's stale write) changes nothing.
        outcomes.sent = []
        #expect(try await store.record(outcomes) == [])
        #expect(try await status(db.pool, held) == "cancelled")

        // The worker holding `orphan` died: the claim after its lease cancels it instead of handing it out.
        try await db.pool.query("UPDATE messages SET lease_until = now() - interval '1 second' WHERE id = $1", [orphan])
        #expect(try await store.claim([orphan], lease: 30).isEmpty)
        #expect(try await status(db.pool, orphan) == "cancelled")
        #expect(try await store.message(id: orphan, tenantID: db.a)?.events.map(\.type) == ["accepted", "cancelled"])
        #expect(try await store.unclaimedRetryTimes([orphan])[orphan]! == nil)

        // A request left on a message that failed is not carried into a retry of it: the claim clears it.
        let failing = try await accept(store, db.a, 1)[0].id
        #expect(try await store.claim([failing], lease: 30).count == 1)
        #expect(try await store.cancel(messageID: failing, tenantID: db.a, actor: "test") == .requested)
        var failed = OutcomeBatch()
        failed.failed = [.init(messageID: failing, tenantID: db.a, reason: "rejected")]
        #expect(try await store.record(failed) == [])
        #expect(try await status(db.pool, failing) == "failed")
        try await db.pool.query("UPDATE messages SET status = 'queued', next_attempt_at = now() WHERE id = $1", [failing])
        #expect(try await store.claim([failing], lease: 30).map(\.id) == [failing])
        var deferred = OutcomeBatch()
        deferred.deferred = [.init(messageID: failing, tenantID: db.a, reason: "503", nextAttemptAt: later)]
        #expect(try await store.record(deferred) == [])
        #expect(try await status(db.pool, failing) == "queued")
        await db.pool.shutdown()
    }

    @Test func aBatchCancelTakesOnlyItsTenantsStillQueuedMessages() async throws {
        let db = try await TwoTenants.make()
        let store = MessageStore(pool: db.pool)
        let batch = try await accept(store, db.a, 5, batch: "spring")
        let other = try await accept(store, db.a, 1, batch: "summer")[0]
        let theirs = try await accept(store, db.b, 1, batch: "spring")[0]
        // Two were taken by a worker already: they get a cancel request.
        #expect(try await store.claim(batch.prefix(2).map(\.id), lease: 30).count == 2)

        let result = try await store.cancel(batchID: "spring", tenantID: db.a, actor: "test")
        #expect(Set(result.cancelled.map(\.id)) == Set(batch.suffix(3).map(\.id)))
        #expect(result.requested == 2 && result.notCancellable == 0)
        for message in batch.suffix(3) { #expect(try await status(db.pool, message.id) == "cancelled") }
        #expect(try await status(db.pool, other.id) == "queued")
        #expect(try await status(db.pool, theirs.id) == "queued")
        let record = try #require(try await store.message(id: batch[4].id, tenantID: db.a))
        #expect(record.message.batchID == "spring")
        #expect(record.events.last?.type == "cancelled" && record.events.last?.detail.contains("spring") == true)

        // The worker holds one of the two (a wait): it is cancelled. Again: nothing left to
        // cancel, one request still pending; an unknown batch has no messages at all.
        var outcomes = OutcomeBatch()
        outcomes.deferred = [.init(messageID: batch[0].id, tenantID: db.a, reason: "paced", nextAttemptAt: Date(), countsAsAttempt: false)]
        #expect(try await store.record(outcomes) == [batch[0].id])
        #expect(try await store.message(id: batch[0].id, tenantID: db.a)?.events.last?.detail.contains("spring") == true)
        #expect(try await store.cancel(batchID: "spring", tenantID: db.a, actor: "test") == .init(cancelled: [], requested: 1, notCancellable: 4))
        #expect(try await store.cancel(batchID: "autumn", tenantID: db.a, actor: "test") == .init(cancelled: [], notCancellable: 0))
        await db.pool.shutdown()
    }

    /// Workers claiming and a tenant cancelling the same messages at the same instant: every
    /// message ends up claimed or cancelled, never both and never neither.
    @Test func cancelsAndClaimsAtTheSameMomentNeverBothWin() async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 8, name: "it-cancel-race")
        try await Migrator(pool: pool).migrate()
        let tenant = try await TenantStore(pool: pool).createTenant(name: "race")
        let store = MessageStore(pool: pool)
        var claimedTotal = 0, cancelledTotal = 0
        for round in 0..<5 {
            let messages = try await accept(store, tenant, 200, batch: "race-\(round)")
            let ids = messages.map(\.id)
            // Half the cancels go one by one, half as the batch cancel; claims in worker-sized
            // chunks, from both ends so the two sides meet in the middle.
            let start = ContinuousClock.now.advanced(by: .milliseconds(50))
            let (claimed, cancelled) = try await withThrowingTaskGroup(of: (claimed: [UUID], cancelled: [UUID]).self) { group in
                for chunk in stride(from: 0, to: ids.count, by: 50) {
                    let part = Array(ids[chunk..<min(chunk + 50, ids.count)])
                    group.addTask {
                        try await Task.sleep(until: start)
                        return (try await store.claim(round % 2 == 0 ? part : part.reversed(), lease: 30).map(\.id), [])
                    }
                }
                for id in ids.reversed().prefix(100) {
                    group.addTask {
                        try await Task.sleep(until: start)
                        if case .cancelled = try await store.cancel(messageID: id, tenantID: tenant, actor: "test") { return ([], [id]) }
                        return ([], [])
                    }
                }
                group.addTask {
                    try await Task.sleep(until: start)
                    return ([], try await store.cancel(batchID: "race-\(round)", tenantID: tenant, actor: "test").cancelled.map(\.id))
                }
                var claimed: [UUID] = [], cancelled: [UUID] = []
                for try await result in group {
                    claimed += result.claimed
                    cancelled += result.cancelled
                }
                return (claimed, cancelled)
            }
            #expect(Set(claimed).isDisjoint(with: cancelled), "round \(round)")
            #expect(claimed.count + cancelled.count == ids.count && Set(claimed + cancelled) == Set(ids), "round \(round)")
            let statuses = try await pool.query("SELECT \(MessageStore.shownStatus()) AS status, count(*) AS n FROM messages WHERE batch_id = $1 GROUP BY 1", ["race-\(round)"])
                .reduce(into: [String: Int]()) { $0[try $1.string("status")] = try $1.int("n") }
            #expect(statuses == ["sending": claimed.count, "cancelled": cancelled.count].filter { $0.value > 0 }, "round \(round)")
            claimedTotal += claimed.count
            cancelledTotal += cancelled.count
        }
        print("cancel/claim race: \(claimedTotal) claimed, \(cancelledTotal) cancelled of 1000")
        await pool.shutdown()
    }
}
