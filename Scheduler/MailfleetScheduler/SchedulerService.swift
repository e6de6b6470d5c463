import Foundation
import Logging
import MailfleetCore
import MailfleetObservability
import MailfleetRedis
import MailfleetStore
import Metrics
import ServiceLifecycle

/// How the scheduler runs.
public struct SchedulerConfiguration: Sendable {
    /// Queue partitions (must match the API's and workers').
    public var partitions = 8
    /// Time between promote/reclaim passes. Default 100 ms.
    public var tick: Duration = .milliseconds(100)
    /// A message queued in Postgres with no queue activity for this long is enqueued again.
    /// Default 300 s: well beyond a healthy backlog's drain time, short enough that a Redis
    /// flush heals within minutes.
    public var reconcileAfterSeconds = 300.0
    /// Time between reconciliation passes. Default 10 s.
    public var reconcileEvery: Duration = .seconds(10)
    /// Leadership lease; a standby takes over this long after the leader dies. Default 5 s.
    public var leaderLeaseMilliseconds = 5000
    /// The defaults.
    public init() {}
}

/// The scheduler: one leader among replicas (a Redis lease) promotes due delayed sends and
/// retries, reclaims expired leases of dead workers, reconciles Postgres with Redis, and
/// publishes queue depths.
public final class SchedulerService: Service {
    private let configuration: SchedulerConfiguration
    private let lease: LeaderLease
    private let queue: MessageQueue
    private let store: MessageStore
    private let logger: Logger

    private let promoted = Telemetry.counter("scheduler_promoted_total", help: "Delayed entries moved to ready")
    private let reclaimed = Telemetry.counter("scheduler_reclaimed_total", help: "Expired leases returned to ready")
    private let reconciled = Telemetry.counter("scheduler_reconciled_total", help: "Messages re-enqueued from Postgres")
    private let leaderGauge = Telemetry.gauge("scheduler_is_leader", help: "1 when this replica leads")
    private let depthGauges: [String: Meter]

    /// Creates the scheduler.
    public init(configuration: SchedulerConfiguration, redis: RedisClient, queue: MessageQueue, store: MessageStore, logger: Logger) {
        self.configuration = configuration
        self.lease = LeaderLease(redis: redis, holder: UUID().lowercasedString, milliseconds: configuration.leaderLeaseMilliseconds)
        self.queue = queue
        self.store = store
        self.logger = logger
        var gauges: [String: Meter] = [:]
        for state in ["ready_transactional", "ready_bulk", "leased", "delayed", "dead"] {
            gauges[state] = Telemetry.gauge("queue_depth", help: "Queue entries by state", labels: [("state", state)])
        }
        depthGauges = gauges
    }

    /// Runs until graceful shutdown, then gives up leadership.
    public func run() async throws {
        logger.info("scheduler started", metadata: ["id": "\(lease.holder)", "partitions": "\(configuration.partitions)"])
        var lastDepth = ContinuousClock.now - .seconds(60)
        var lastReconcile = ContinuousClock.now
        var leading = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let nowLeading = try await lease.acquire()
                if nowLeading != leading {
                    logger.info(nowLeading ? "became leader" : "lost leadership")
                    leading = nowLeading
                    leaderGauge.set(leading ? 1 : 0)
                }
                if leading {
                    try await tick()
                    if ContinuousClock.now - lastReconcile >= configuration.reconcileEvery {
                        lastReconcile = ContinuousClock.now
                        try await reconcile()
                        try await store.purgeExpiredIdempotencyKeys()
                    }
                }
                if ContinuousClock.now - lastDepth >= .seconds(1) {
                    lastDepth = ContinuousClock.now
                    try await publishDepth()
                }
            } catch {
                logger.error("scheduler pass failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: configuration.tick)
        }
        if leading { _ = try? await lease.release() }
        logger.info("scheduler stopped")
    }

    /// Promotes due entries and reclaims expired leases in every partition.
    func tick() async throws {
        let now = Date()
        for p in 0..<configuration.partitions {
            let moved = try await queue.promoteDue(partition: p, now: now)
            if moved > 0 { promoted.increment(by: Int64(moved)) }
            let back = try await queue.reclaimExpired(partition: p, now: now)
            if back > 0 {
                reclaimed.increment(by: Int64(back))
                logger.warning("reclaimed expired leases", metadata: ["partition": "\(p)", "count": "\(back)"])
            }
        }
    }

    /// Re-enqueues messages Postgres holds as unfinished that show no progress.
    func reconcile() async throws {
        let stalled = try await store.stalled(olderThan: configuration.reconcileAfterSeconds, limit: 5000)
        guard !stalled.isEmpty else { return }
        try await queue.enqueue(stalled.map { MessageQueue.Item(id: $0.id, priority: $0.priority) })
        reconciled.increment(by: Int64(stalled.count))
        logger.warning("re-enqueued stalled messages", metadata: ["count": "\(stalled.count)"])
    }

    private func publishDepth() async throws {
        let depth = try await queue.depth()
        depthGauges["ready_transactional"]?.set(Double(depth.readyTransactional))
        depthGauges["ready_bulk"]?.set(Double(depth.readyBulk))
        depthGauges["leased"]?.set(Double(depth.leased))
        depthGauges["delayed"]?.set(Double(depth.delayed))
        depthGauges["dead"]?.set(Double(depth.dead))
    }
}
