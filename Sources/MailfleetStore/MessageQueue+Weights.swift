import Foundation
import MailfleetCore
import MailfleetRedis

extension MessageQueue {
    /// Replaces every partition's weight table with `weights` (tenants not listed weigh 1), in
    /// one round trip; each partition's table changes at once, so a fetch sees the old one or
    /// the new one.
    public func publishWeights(_ weights: [UUID: Int]) async throws {
        let arguments = weights.sorted { $0.key.uuidString < $1.key.uuidString }.flatMap { [$0.key.lowercasedString, String($0.value)] }
        try checkReplies(try await redis.evaluatePipelined(
            (0..<partitioning.count).map { (script: Scripts.weights, keys: [keys($0).weights], arguments: arguments) }))
    }

    /// The weights partition `p` holds (tenants at the default 1 are absent).
    public func publishedWeights(partition p: Int) async throws -> [UUID: Int] {
        let pairs = try await redis.command("HGETALL", keys(p).weights).array ?? []
        var weights: [UUID: Int] = [:]
        for i in stride(from: 0, to: pairs.count - 1, by: 2) {
            if let tenant = pairs[i].string.flatMap(UUID.init(uuidString:)), let weight = pairs[i + 1].int { weights[tenant] = weight }
        }
        return weights
    }
}
