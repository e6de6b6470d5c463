import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetRedis
import MailfleetStore
import Testing

/// The I/O of a recovery from Redis data loss against the real servers: the generation markers
/// in Redis, and the age-free passes over Postgres that refill the queue.
@Suite("Redis loss recovery", .serialized)
struct RedisLossRecoveryStoreTests {
    @Test func markersTellALostPartitionAndOnlyTheirOwnRecoveryMarksThemReady() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-generation")
        let queue = MessageQueue(redis: redis, partitioning: Partitioning(count: 3), prefix: "it\(UUID().uuidString.prefix(6))")
        // A new (or emptied) Redis has no markers.
        #expect(try await queue.generationMarker() == .missing)
        try await queue.markRecovering(generation: "g1")
        #expect(try await queue.generationMarker() == .recovering(generation: "g1"))
        // Another generation's recovery cannot finish this one.
        #expect(try await !queue.markReady(generation: "g0"))
        #expect(try await queue.generationMarker() == .recovering(generation: "g1"))
        #expect(try await queue.markReady(generation: "g1"))
        #expect(try await queue.generationMarker() == .ready(generation: "g1"))
        // One partition losing its data (one cluster node failing over to an empty replica) is a loss.
        _ = try await redis.command("DEL", queue.keys(1).generation)
        #expect(try await queue.generationMarker() == .missing)
        // A recovery that finds a partition lost again meanwhile does not mark it ready.
        try await queue.markRecovering(generation: "g2")
        _ = try await redis.command("DEL", queue.keys(2).generation)
        #expect(try await !queue.markReady(generation: "g2"))
        #expect(try await queue.generationMarker() == .missing)
        _ = try await redis.pipeline((0..<3).map { ["DEL", queue.keys($0).generation] })
        redis.shutdown()
    }

    @Test func passesRefillEveryUnfinishedMessageOnceWhateverItsAgeThenFindNothing() async throws {
        let db = try await TwoTenants.make()
        let store = MessageStore(pool: db.pool)
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-recovery")
        let queue = MessageQueue(redis: redis, partitioning: Partitioning(count: 2), prefix: "it\(UUID().uuidString.prefix(6))")
        func message(_ priority: Priority, sendAt: Date? = nil) -> Message {
            Message(id: UUID(), tenantID: db.a, priority: priority, status: .queued, content: content(), sendAt: sendAt)
        }
        let due = [message(.transactional), message(.bulk), message(.bulk)]
        let later = message(.bulk, sendAt: Date().addingTimeInterval(3600))
        let sending = message(.transactional), expired = message(.bulk), sent = message(.bulk)
        let all = due + [later, sending, expired, sent]
        _ = try await store.accept([
            AcceptRequest(tenantID: db.a, idempotencyKey: nil, requestHash: "h", responseStatus: 202, responseBody: "{}", messages: all)
        ])
        // A worker holds one under a live lease and one under an expired lease; one is finished.
        try await db.pool.query("UPDATE messages SET lease_until = now() + interval '10 minutes' WHERE id = $1", [sending.id])
        try await db.pool.query("UPDATE messages SET lease_until = now() - interval '1 minute' WHERE id = $1", [expired.id])
        try await db.pool.query("UPDATE messages SET status = 'sent' WHERE id = $1", [sent.id])
        // All of them are fresh: the age-based reconciliation would leave them alone for 300 s.
        #expect(try await store.stalled(olderThan: 300, limit: 5000).items.isEmpty)

        let cutoff = try await store.databaseTime()
        // Accepted after the loss was noticed: the API put it in the new Redis itself.
        let afterCutoff = message(.bulk)
        _ = try await store.accept([
            AcceptRequest(tenantID: db.a, idempotencyKey: nil, requestHash: "h2", responseStatus: 202, responseBody: "{}", messages: [afterCutoff])
        ])

        // Small passes, repeated until one finds nothing, take each unfinished message once.
        var items: [MessageQueue.Item] = []
        var passes = 0
        while true {
            let pass = try await store.unfinished(enqueuedBefore: cutoff, limit: 2)
            passes += 1
            try #require(passes <= 10, "passes with one cutoff must run dry")
            if pass.isEmpty { break }
            #expect(pass.count <= 2)
            items += pass
        }
        #expect(passes == 4)
        #expect(items.count == 6)
        #expect(Set(items.map(\.id)) == Set((due + [later, sending, expired]).map(\.id)))
        let byID = Dictionary(uniqueKeysWithValues: items.map { ($0.id, $0) })
        #expect(byID[due[0].id]?.priority == .transactional && byID[due[1].id]?.priority == .bulk)
        // Each is due when it would have been due in the lost Redis: now, at its scheduled time,
        // or when its live lease ends (a dead worker's message then goes again).
        let now = try await store.databaseTime()
        for m in due + [expired] {
            let dueAt = try #require(byID[m.id]?.dueAt)
            #expect(dueAt <= now)
        }
        let laterDue = try #require(byID[later.id]?.dueAt), laterSendAt = try #require(later.sendAt)
        #expect(abs(laterDue.timeIntervalSince(laterSendAt)) < 0.001)
        let leaseEnd = try await db.pool.query("SELECT lease_until FROM messages WHERE id = $1", [sending.id]).first!.date("lease_until")
        #expect(byID[sending.id]?.dueAt == leaseEnd)

        // Enqueued, they land in the lists and sets they were in before the loss.
        try await queue.enqueue(items, now: now)
        let depth = try await queue.depth()
        #expect(depth.readyTransactional == 1 && depth.readyBulk == 3 && depth.delayed == 2)
        _ = try await redis.pipeline((0..<2).flatMap { p in
            [queue.keys(p).readyTransactional, queue.keys(p).readyBulk, queue.keys(p).delayed].map { ["DEL", $0] }
        })
        redis.shutdown()
        await db.pool.shutdown()
    }
}
