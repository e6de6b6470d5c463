import Foundation
import MailfleetCore
import MailfleetRedis

extension MessageQueue {
    /// Holds tenants in every partition (their mail is spread over all of them), in one round
    /// trip (`FairShare.hold` is the pure twin). A fetch parks a held tenant out of its lane's
    /// ring when it comes to it and puts it back once due, so the lane's other tenants are
    /// fetched meanwhile and a fetch's cost does not grow with the number of tenants held.
    /// Partitions come back `stepMs` apart, starting from partition `first` (random by
    /// default), so a tenant's mail spread over them does not all come back for one token.
    /// Times are Redis's clock unless `now` is given (tests).
    public func hold(_ holds: [FairShare.TenantHold], first: Int? = nil, now: Date? = nil) async throws {
        guard !holds.isEmpty else { return }
        let count = partitioning.count
        let start = first ?? Int.random(in: 0..<count)
        let calls = (0..<count).map { p in
            let rank = ((p - start) % count + count) % count
            let arguments = holds.flatMap {
                [String($0.lane.code), $0.tenantID.lowercasedString, String($0.waitMs + rank * $0.stepMs), String($0.allowance)]
            }
            return (script: Scripts.hold, keys: [keys(p).tag + "held:t"], arguments: [keys(p).tag, MessageQueue.scriptTime(now)] + arguments)
        }
        try checkReplies(try await redis.evaluatePipelined(calls))
    }
}
