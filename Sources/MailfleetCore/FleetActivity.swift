import Foundation

/// What the workers' heartbeats say together: which workers are alive, what they have done
/// since they started, and each provider account's recent call latency across them.
public struct FleetActivity: Sendable, Equatable {
    /// Workers whose latest heartbeat is recent enough, by id.
    public let workers: [WorkerHeartbeat]
    /// Messages sent, summed over those workers (since each started).
    public let sent: Int
    /// Messages failed for good, summed likewise.
    public let failed: Int
    /// Messages deferred, summed likewise.
    public let deferred: Int
    /// Each account's calls and mean latency over every worker that called it.
    public let latencies: [UUID: WorkerHeartbeat.AccountLatency]

    /// Takes the heartbeats written within `aliveWithinMs` of `nowMs`; a worker that wrote
    /// several counts once, with its latest.
    public init(heartbeats: [WorkerHeartbeat], nowMs: Int, aliveWithinMs: Int) {
        var latest: [String: WorkerHeartbeat] = [:]
        for beat in heartbeats where nowMs - beat.beatAtMs <= aliveWithinMs {
            if let known = latest[beat.id], known.beatAtMs >= beat.beatAtMs { continue }
            latest[beat.id] = beat
        }
        workers = latest.values.sorted { ($0.host, $0.pid, $0.id) < ($1.host, $1.pid, $1.id) }
        sent = workers.reduce(0) { $0 + $1.sent }
        failed = workers.reduce(0) { $0 + $1.failed }
        deferred = workers.reduce(0) { $0 + $1.deferred }
        // Each worker's mean weighted by its calls: a worker that made one call does not pull
        // the account's latency as far as one that made a thousand.
        var totals: [UUID: (calls: Int, weighted: Double)] = [:]
        for worker in workers {
            for account in worker.accounts where account.calls > 0 {
                let known = totals[account.accountID] ?? (0, 0)
                totals[account.accountID] = (known.calls + account.calls, known.weighted + account.meanMs * Double(account.calls))
            }
        }
        var combined: [UUID: WorkerHeartbeat.AccountLatency] = [:]
        for (account, total) in totals {
            combined[account] = .init(accountID: account, calls: total.calls, meanMs: total.weighted / Double(total.calls))
        }
        latencies = combined
    }
}
