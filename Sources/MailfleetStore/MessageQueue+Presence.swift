import Foundation
import MailfleetCore
import MailfleetRedis

extension MessageQueue {
    /// The messages among `items` whose entry is on the queue (ready, leased or delayed), in one
    /// round trip: an entry's tenant is recorded in `mf:{pN}:tenant` from enqueue until it is
    /// acknowledged, dead-lettered or forgotten, so a present field means the entry is still
    /// somewhere in the partition. Reconciliation uses it not to enqueue a second entry for a
    /// message that is only waiting its turn behind a long backlog.
    public func onQueue(_ items: [Item]) async throws -> Set<UUID> {
        var byPartition: [Int: [Item]] = [:]
        for item in items { byPartition[partitioning.partition(of: item.id), default: []].append(item) }
        let partitions = Array(byPartition.keys)
        guard !partitions.isEmpty else { return [] }
        let replies = try await redis.pipeline(partitions.map { p in
            ["HMGET", keys(p).tenants] + byPartition[p]!.map { MessageQueue.entry(id: $0.id, priority: $0.priority) }
        })
        try checkReplies(replies)
        var present: Set<UUID> = []
        for (p, reply) in zip(partitions, replies) {
            for (item, owner) in zip(byPartition[p]!, reply.array ?? []) where owner.string != nil { present.insert(item.id) }
        }
        return present
    }
}
