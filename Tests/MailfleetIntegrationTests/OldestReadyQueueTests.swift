import Foundation
import MailfleetCore
import MailfleetRedis
import MailfleetStore
import Testing

/// The oldest ready entry per lane, read from a real Redis.
@Suite(.serialized) struct OldestReadyQueueTests {
    @Test func theOldestHeadOfEachLaneIsFoundAcrossPartitions() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-oldest")
        defer { redis.shutdown() }
        let queue = MessageQueue(redis: redis, partitioning: Partitioning(count: 8), prefix: "it\(UUID().uuidString.prefix(6))")
        let now = Date(), tenant = UUID()
        #expect(try await queue.oldestReady() == OldestReady())

        // Forty transactional messages accepted 1 to 40 s ago and ten bulk ones 100 to 109 s
        // ago, spread over the partitions; a scheduled one is not ready and does not count.
        let transactional = (1...40).map { UUID.timeOrdered(at: now.addingTimeInterval(-Double($0))) }
        let bulk = (100..<110).map { UUID.timeOrdered(at: now.addingTimeInterval(-Double($0))) }
        let scheduled = UUID.timeOrdered(at: now.addingTimeInterval(-3600))
        try await queue.enqueue(
            transactional.reversed().map { .init(id: $0, priority: .transactional, tenantID: tenant) } + bulk.reversed().map { .init(id: $0, priority: .bulk, tenantID: tenant) }
                + [.init(id: scheduled, priority: .bulk, tenantID: tenant, dueAt: now.addingTimeInterval(60))], now: now)
        let oldest = try await queue.oldestReady()
        #expect(abs(oldest.ageSeconds(.transactional, at: now) - 40) < 0.01)
        #expect(abs(oldest.ageSeconds(.bulk, at: now) - 109) < 0.01)

        // Once the bulk lane is drained it is 0 again, while transactional stays.
        for p in 0..<8 { _ = try await queue.fetch(partition: p, max: 1000, leaseSeconds: 30, now: now) }
        try await queue.enqueue(transactional.prefix(1).map { .init(id: $0, priority: .transactional, tenantID: tenant) }, now: now)
        let after = try await queue.oldestReady()
        #expect(after.ageSeconds(.bulk, at: now) == 0)
        #expect(abs(after.ageSeconds(.transactional, at: now) - 1) < 0.01)
    }
}
