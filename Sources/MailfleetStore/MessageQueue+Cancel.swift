import Foundation
import MailfleetCore
import MailfleetRedis

extension MessageQueue {
    /// Drops cancelled messages' entries from the delayed sets, where a scheduled message would
    /// otherwise count as pending until its time. Entries elsewhere (ready lists, leases) stay:
    /// removing them from a list is a scan, and the next fetch drops them anyway (the claim
    /// refuses a cancelled message). Best effort: a failure leaves entries the claim refuses.
    public func forget(_ items: [MessageQueue.Item]) async throws {
        var byPartition: [Int: [String]] = [:]
        for item in items {
            byPartition[partitioning.partition(of: item.id), default: []].append(MessageQueue.entry(id: item.id, priority: item.priority))
        }
        guard !byPartition.isEmpty else { return }
        let calls = byPartition.map { p, entries in (Self.forgetScript, [keys(p).delayed, keys(p).tenants], entries) }
        let replies = try await redis.evaluatePipelined(calls)
        for reply in replies {
            if case .error(let message) = reply { throw RedisError(message: message) }
        }
    }

    // KEYS: delayed, tenant. ARGV: entries. An entry removed from the delayed set takes its
    // tenant (the fair-share `tenant` hash) with it; one found elsewhere keeps it, since a
    // fetch, reclaim or acknowledgement still needs it.
    static let forgetScript = RedisScript("""
        local n = 0
        for _, entry in ipairs(ARGV) do
          if redis.call('ZREM', KEYS[1], entry) == 1 then
            redis.call('HDEL', KEYS[2], entry)
            n = n + 1
          end
        end
        return n
        """)
}
