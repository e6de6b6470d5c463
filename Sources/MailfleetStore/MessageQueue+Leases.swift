import Foundation
import MailfleetCore
import MailfleetRedis

extension MessageQueue {
    /// Pushes the lease deadline of entries still in the leased set to `leaseSeconds` from now,
    /// in one round trip; returns how many were extended. `ZADD XX GT` only touches entries that
    /// are still leased and only moves a deadline later: an entry acknowledged, rescheduled,
    /// dead-lettered or reclaimed meanwhile is never put back.
    @discardableResult
    public func renewLeases(_ messages: [(id: UUID, priority: Priority)], leaseSeconds: Double, now: Date = Date()) async throws -> Int {
        let deadline = String(Int64((now.timeIntervalSince1970 + leaseSeconds) * 1000))
        var byKey: [String: [String]] = [:]
        for m in messages {
            byKey[keys(partitioning.partition(of: m.id)).leased, default: []] += [deadline, MessageQueue.entry(id: m.id, priority: m.priority)]
        }
        guard !byKey.isEmpty else { return 0 }
        var renewed = 0
        for reply in try await redis.pipeline(byKey.map { ["ZADD", $0.key, "XX", "GT", "CH"] + $0.value }) {
            if case .error(let message) = reply { throw RedisError(message: message) }
            renewed += reply.int ?? 0
        }
        return renewed
    }
}
