import Foundation
import MailfleetCore
import MailfleetRedis
import MailfleetStore
import Testing

/// Reconciliation's look at Redis before it enqueues a stalled message again: an entry still on
/// the queue (ready, leased or delayed) is only waiting, and a second one would be fetched and
/// claimed for nothing.
@Suite(.serialized) struct QueuePresenceTests {
    @Test func entriesReadyLeasedOrDelayedAreOnTheQueueAndFinishedOnesAreNot() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-presence")
        defer { redis.shutdown() }
        let queue = MessageQueue(redis: redis, partitioning: Partitioning(count: 3), prefix: "it-presence-\(UUID().uuidString.prefix(6))")
        let tenant = UUID()
        let items = (0..<12).map { MessageQueue.Item(id: UUID(), priority: $0 % 3 == 0 ? .transactional : .bulk, tenantID: tenant) }
        let scheduled = MessageQueue.Item(id: UUID(), priority: .bulk, tenantID: tenant, dueAt: Date().addingTimeInterval(3600))
        try await queue.enqueue(items + [scheduled])
        var leased: [(id: UUID, priority: Priority)] = []
        // Six leased, from whichever partitions hold them (the ids fall on partitions by hash,
        // and bulk entries ripen only after the linger).
        for _ in 0..<200 where leased.count < 6 {
            for p in 0..<3 where leased.count < 6 { leased += try await queue.fetch(partition: p, max: 6 - leased.count, leaseSeconds: 60) }
            if leased.count < 6 { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(leased.count == 6)
        // Of the leased ones, two are acknowledged (sent), one dead-lettered, one waits for a retry.
        try await queue.acknowledge(Array(leased.prefix(2)))
        try await queue.deadLetter([(leased[2].id, leased[2].priority, "refused")])
        try await queue.reschedule([(leased[3].id, leased[3].priority, Date().addingTimeInterval(60))])
        let never = MessageQueue.Item(id: UUID(), priority: .bulk, tenantID: tenant)
        let present = try await queue.onQueue(items + [scheduled, never])
        let finished = Set(leased.prefix(3).map(\.id))
        #expect(present == Set((items + [scheduled]).map(\.id)).subtracting(finished))
        #expect(try await queue.onQueue([]).isEmpty)
    }
}
