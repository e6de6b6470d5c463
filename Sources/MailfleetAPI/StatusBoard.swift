import Foundation
import Logging
import MailfleetCore
import MailfleetRuntime
import MailfleetStore

/// The status page's data. Each snapshot reads the fleet afresh (queues, heartbeats, breakers
/// from Redis; tenants, accounts and dead letters from Postgres); the throughput history is
/// kept here, sampled once a second by the API process (`sample()`), so a page opened now
/// already shows the minutes before it.
public final class StatusBoard: Sendable {
    /// A worker whose latest heartbeat is older than this is not counted as alive.
    static let aliveWithinMs = 10_000
    /// Dead letters listed.
    static let failuresShown = 10
    /// Seconds between samples of the history (the API's sampling interval).
    public static let sampleInterval: Duration = .seconds(1)
    /// Points kept: five minutes at one a second.
    static let historyPoints = 300

    private let stores: APIStores
    private let heartbeats: WorkerHeartbeatStore
    private let history = Locked(ThroughputHistory(capacity: StatusBoard.historyPoints))
    private let logger: Logger

    /// A board over the API's stores; heartbeats are read beside the queue.
    public init(stores: APIStores, logger: Logger) {
        self.stores = stores
        heartbeats = WorkerHeartbeatStore(beside: stores.queue)
        self.logger = logger
    }

    /// Adds one point to the throughput history from the workers' heartbeats; when Redis does
    /// not answer, the point is left out (a gap, not a false zero).
    public func sample() async {
        let nowMs = Self.nowMs()
        do {
            let beats = try await heartbeats.heartbeats(sinceMs: nowMs - Self.aliveWithinMs, nowMs: nowMs)
            history.withLock { $0.record(beats, atMs: nowMs) }
        } catch {
            logger.debug("status sample skipped: heartbeats unreadable", metadata: ["error": "\(error)"])
        }
    }

    /// The fleet now. Redis and Postgres are read side by side; what one of them cannot give is
    /// null in the snapshot and named in `unavailable`.
    func snapshot() async -> StatusSnapshot {
        let nowMs = Self.nowMs()
        async let depth = Self.attempt { try await self.stores.queue.depth() }
        async let beats = Self.attempt { try await self.heartbeats.heartbeats(sinceMs: nowMs - Self.aliveWithinMs, nowMs: nowMs) }
        async let deadCount = Self.attempt { try await self.stores.messages.countDeadLetters() }
        async let dead = Self.attempt { try await self.stores.messages.deadLetters(matching: DeadLetterFilter(), limit: Self.failuresShown) }
        async let accounts = Self.attempt { () async throws -> (names: [UUID: String], chains: [UUID: [ProviderAccount]]) in
            let tenants = try await self.stores.tenants.tenants()
            let chains = try await self.stores.tenants.providerChains(tenantIDs: tenants.map(\.id))
            return (Dictionary(tenants.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first }), chains)
        }

        var unavailable: [String] = []
        func value<T>(_ result: Result<T, any Error>, _ what: String) -> T? {
            switch result {
            case .success(let value): return value
            case .failure(let error):
                unavailable.append("\(what): \(error)")
                return nil
            }
        }
        let queues = value(await depth, "queues (Redis)").map(StatusSnapshot.Queues.init)
        let activity = value(await beats, "workers (Redis)").map { FleetActivity(heartbeats: $0, nowMs: nowMs, aliveWithinMs: Self.aliveWithinMs) }
        let deadLetters = value(await deadCount, "dead letters (Postgres)")
        let failed = value(await dead, "recent failures (Postgres)")
        let known = value(await accounts, "provider accounts (Postgres)")

        var providers: [StatusSnapshot.Provider]?
        if let known {
            let all = known.chains.values.flatMap { $0 }
            // A Redis outage leaves the breakers unknown, not the accounts unlisted.
            let states = value(await Self.attempt { try await self.stores.breakers.states(accounts: all.map(\.id)) }, "circuit breakers (Redis)")
            providers = all.map { account in
                StatusSnapshot.Provider(
                    account, tenant: known.names[account.tenantID] ?? account.tenantID.lowercasedString,
                    circuit: states.map { $0[account.id] ?? CircuitBreaker.State() }, latency: activity?.latencies[account.id])
            }.sorted { ($0.tenant, $0.tenantID, $0.priority, $0.account) < ($1.tenant, $1.tenantID, $1.priority, $1.account) }
        }
        let failures = failed.map { records in
            records.map { StatusSnapshot.Failure($0, tenant: known?.names[$0.message.tenantID] ?? $0.message.tenantID.lowercasedString) }
        }
        // Debug only: an open page asks every second, and the outage itself is logged where it hurts.
        if !unavailable.isEmpty {
            logger.debug("status snapshot incomplete", metadata: ["unavailable": "\(unavailable)"])
        }
        return StatusSnapshot(
            generatedAt: StatusSnapshot.time(ms: nowMs), queues: queues, deadLetters: deadLetters,
            workers: activity.map { StatusSnapshot.Workers($0, nowMs: nowMs) }, providers: providers, recentFailures: failures,
            throughput: StatusSnapshot.Throughput(history.withLock { $0 }, intervalSeconds: Double(Self.sampleInterval.wholeMilliseconds) / 1000),
            unavailable: unavailable)
    }

    private static func attempt<T: Sendable>(_ body: @Sendable () async throws -> T) async -> Result<T, any Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    private static func nowMs() -> Int { Int(Date().timeIntervalSince1970 * 1000) }
}
