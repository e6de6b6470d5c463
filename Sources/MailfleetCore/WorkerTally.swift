import Foundation

/// A worker's running counts and provider latencies, from which its heartbeats are made.
public struct WorkerTally: Sendable, Equatable {
    /// Messages a provider accepted.
    public private(set) var sent = 0
    /// Messages that failed for good.
    public private(set) var failed = 0
    /// Messages rescheduled after a retryable failure.
    public private(set) var deferred = 0
    /// Recent call latency per provider account.
    public private(set) var latencies: [UUID: CallLatency] = [:]

    /// Nothing counted yet.
    public init() {}

    /// Adds one round's outcomes.
    public mutating func count(sent: Int, failed: Int, deferred: Int) {
        self.sent += sent
        self.failed += failed
        self.deferred += deferred
    }

    /// Records one provider call to `account` that took `milliseconds`.
    public mutating func recordCall(account: UUID, milliseconds: Double) {
        latencies[account, default: CallLatency()].record(milliseconds: milliseconds)
    }

    /// The heartbeat of a worker with this tally; accounts in id order, so equal tallies give
    /// equal heartbeats.
    public func heartbeat(id: String, host: String, pid: Int, startedAtMs: Int, nowMs: Int) -> WorkerHeartbeat {
        let accounts = latencies.compactMap { account, latency in
            latency.meanMs.map { WorkerHeartbeat.AccountLatency(accountID: account, calls: latency.calls, meanMs: $0) }
        }.sorted { $0.accountID.uuidString < $1.accountID.uuidString }
        return WorkerHeartbeat(
            id: id, host: host, pid: pid, startedAtMs: startedAtMs, beatAtMs: nowMs, sent: sent, failed: failed, deferred: deferred,
            accounts: accounts)
    }
}
