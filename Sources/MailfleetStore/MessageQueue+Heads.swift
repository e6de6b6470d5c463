import Foundation
import MailfleetCore
import MailfleetRedis

extension MessageQueue {
    /// The oldest head of each lane over all partitions, in one round trip. With a list per
    /// tenant, reading every head would cost as much as there are tenants with work; instead
    /// each partition reports the heads of its old-layout lists and of the lists of the first
    /// `tenants` tenants of each ring and of the `tenants` tenants with the largest backlogs
    /// (whose heads have waited longest, as a tenant's backlog drains at its share). The cost
    /// stays the same whatever the backlog and number of tenants.
    public func oldestReady(tenants: Int = 8) async throws -> OldestReady {
        let replies = try await redis.evaluatePipelined(
            (0..<partitioning.count).map { (script: Scripts.heads, keys: [keys($0).tag + "ring:t"], arguments: [keys($0).tag, String(tenants)]) })
        try checkReplies(replies)
        var oldest = OldestReady()
        for reply in replies {
            for head in reply.array ?? [] {
                if let entry = head.string.flatMap(MessageQueue.parse(entry:)) { oldest.observe(id: entry.id, lane: entry.priority) }
            }
        }
        return oldest
    }
}
