import Foundation
import MailfleetCore
import MailfleetRedis

extension MessageQueue {
    /// Drops cancelled messages' entries from the delayed sets, where a scheduled message would
    /// otherwise count as pending until its time. Entries elsewhere (ready lists, leases) stay:
    /// removing them from a list is a scan, and the next fetch drops them anyway (the claim
    /// refuses a cancelled message). Best effort: a failure leaves entries the claim refuses.
    public func forget(_ items: [MessageQueue.Item]) async throws {
        var byKey: [String: [String]] = [:]
        for item in items {
            byKey[keys(partitioning.partition(of: item.id)).delayed, default: []].append(MessageQueue.entry(id: item.id, priority: item.priority))
        }
        guard !byKey.isEmpty else { return }
        let replies = try await redis.pipeline(byKey.map { ["ZREM", $0.key] + $0.value })
        for reply in replies {
            if case .error(let message) = reply { throw RedisError(message: message) }
        }
    }
}
