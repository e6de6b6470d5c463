import Foundation
import MailfleetCore
import MailfleetRedis

extension MessageQueue {
    /// The `limit` tenants with the most ready entries in `lane` over all partitions, largest
    /// first, in one round trip: each partition names its own top `limit`, so a tenant's count
    /// is exact when it is among the top of every partition it has work in (a tenant with a
    /// large backlog is, as ids spread evenly over partitions) and a lower bound otherwise.
    public func backlogLeaders(_ lane: Priority, limit: Int) async throws -> [(tenantID: UUID, ready: Int)] {
        guard limit > 0 else { return [] }
        let replies = try await redis.pipeline(
            (0..<partitioning.count).map { ["ZREVRANGE", keys($0).backlog(lane), "0", String(limit - 1), "WITHSCORES"] })
        try checkReplies(replies)
        var totals: [UUID: Int] = [:]
        for reply in replies {
            let pairs = reply.array ?? []
            for i in stride(from: 0, to: pairs.count - 1, by: 2) {
                guard let tenant = pairs[i].string.flatMap(UUID.init(uuidString:)),
                      let count = pairs[i + 1].string.flatMap(Double.init) else { continue }
                totals[tenant, default: 0] += Int(count)
            }
        }
        let sorted = totals.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.uuidString < $1.key.uuidString }
        return sorted.prefix(limit).map { ($0.key, $0.value) }
    }
}
