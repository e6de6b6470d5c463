import Foundation
import MailfleetCore
import MailfleetRedis

extension MessageQueue {
    /// The oldest head of each lane over all partitions: one `LINDEX 0` per ready list in one
    /// round trip, so it costs the same with a backlog of millions as with none.
    public func oldestReady() async throws -> OldestReady {
        var commands: [[String]] = []
        for p in 0..<partitioning.count {
            let k = keys(p)
            commands += [["LINDEX", k.readyTransactional, "0"], ["LINDEX", k.readyBulk, "0"]]
        }
        let replies = try await redis.pipeline(commands)
        var oldest = OldestReady()
        for reply in replies {
            if case .error(let message) = reply { throw RedisError(message: message) }
            if let entry = reply.string.flatMap(MessageQueue.parse(entry:)) { oldest.observe(id: entry.id, lane: entry.priority) }
        }
        return oldest
    }
}
