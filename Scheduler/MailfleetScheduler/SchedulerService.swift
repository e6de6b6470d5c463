import Foundation
import Logging
import MailfleetConfiguration
import MailfleetCore
import MailfleetObservability
import MailfleetRedis
import MailfleetStore
import Metrics
import ServiceLifecycle

/// How the scheduler runs; the defaults of its settings are the settings catalogue's.
public struct SchedulerConfiguration: Sendable {
    /// Queue partitions (must match the API's and workers').
    public var partitions = Settings.catalogue.partitions.defaultValue
    /// Time between promote/reclaim passes. Default 100 ms.
    public var tick: Duration = .milliseconds(100)
    /// A message queued in Postgres with no queue activity for this long is enqueued again.
    /// Default 300 s: well beyond a healthy backlog's drain time. A Redis that lost all its
    /// data does not wait for it (see `generationCheckEvery`).
    public var reconcileAfterSeconds = Settings.catalogue.reconcileAfterSeconds.defaultValue
    /// Time between reconciliation passes.
    public var reconcileEvery: Duration = .seconds(Settings.catalogue.reconcileEverySeconds.defaultValue)
    /// Leadership lease; a standby takes over this long after the leader dies. Default 5 s.
    public var leaderLeaseMilliseconds = 5000
    /// Time between checks of Redis's generation markers (one round trip), so a Redis that
    /// lost its data is noticed and refilled from Postgres within about this long. Default 1 s.
    public var generationCheckEvery: Duration = .seconds(1)
    /// Days a failed message (a dead letter) is kept for inspection and re-drive; the leader
    /// then deletes it, at most 5,000 per reconciliation pass. Default 30.
    public var deadLetterRetentionDays = Settings.catalogue.deadLetterRetentionDays.defaultValue
    /// The defaults.
    public init() {}
}

/// The scheduler: one leader among replicas (a Redis lease) promotes due delayed sends and
/// retries, reclaims expired leases of dead workers, reconciles Postgres with Redis (at once and
/// in full when Redis lost its data), deletes dead letters past their retention, and publishes
/// queue depths and the dead-letter count.
public final class SchedulerService: Service {
    private let configuration: SchedulerConfiguration
    private let lease: LeaderLease
    private let queue: MessageQueue
    private let store: MessageStore
    private let logger: Logger

    private let promoted = Telemetry.counter("scheduler_promoted_total", help: "Delayed entries moved to ready")
    private let reclaimed = Telemetry.counter("scheduler_reclaimed_total", help: "Expired leases returned to ready")
    private let reconciled = Telemetry.counter("scheduler_reconciled_total", help: "Messages re-enqueued from Postgres")
    private let redisLosses = Telemetry.counter("redis_data_loss_total", help: "Times Redis was found to have lost its data (a missing generation marker)")
    private let leaderGauge = Telemetry.gauge("scheduler_is_leader", help: "1 when this replica leads")
    private let deadLetters = Telemetry.gauge("dead_letters", help: "Failed messages kept in Postgres (dead letters), counted every 5 s")
    private let purgedDeadLetters = Telemetry.counter("dead_letters_purged_total", help: "Dead letters deleted after their retention period")
    private let depthGauges: [String: Meter]

    /// Creates the scheduler.
    public init(configuration: SchedulerConfiguration, redis: RedisClient, queue: MessageQueue, store: MessageStore, logger: Logger) {
        self.configuration = configuration
        self.lease = LeaderLease(redis: redis, holder: UUID().lowercasedString, milliseconds: configuration.leaderLeaseMilliseconds)
        self.queue = queue
        self.store = store
        self.logger = logger
        var gauges: [String: Meter] = [:]
        for state in ["ready_transactional", "ready_bulk", "leased", "delayed"] {
            gauges[state] = Telemetry.gauge("queue_depth", help: "Queue entries by state", labels: [("state", state)])
        }
        depthGauges = gauges
    }

    /// Runs until graceful shutdown, then gives up leadership.
    public func run() async throws {
        logger.info("scheduler started", metadata: ["id": "\(lease.holder)", "partitions": "\(configuration.partitions)"])
        var lastDepth = ContinuousClock.now - .seconds(60)
        var lastDeadLetterCount = ContinuousClock.now - .seconds(60)
        var lastReconcile = ContinuousClock.now
        var lastGenerationCheck = ContinuousClock.now - .seconds(60)
        var recovery = Recovery()
        var leading = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let nowLeading = try await lease.acquire()
                if nowLeading != leading {
                    logger.info(nowLeading ? "became leader" : "lost leadership")
                    leading = nowLeading
                    leaderGauge.set(leading ? 1 : 0)
                    // A new leader reads the markers at once; a former one forgets its recovery.
                    recovery = Recovery()
                    lastGenerationCheck = ContinuousClock.now - .seconds(60)
                }
                if leading {
                    try await tick()
                    if ContinuousClock.now - lastGenerationCheck >= configuration.generationCheckEvery {
                        lastGenerationCheck = ContinuousClock.now
                        try await checkGeneration(&recovery)
                    }
                    if recovery.state.recovering != nil { try await recoveryPass(&recovery) }
                    if ContinuousClock.now - lastReconcile >= configuration.reconcileEvery {
                        lastReconcile = ContinuousClock.now
                        try await reconcile()
                        try await store.purgeExpiredIdempotencyKeys()
                        try await purgeDeadLetters()
                    }
                }
                if ContinuousClock.now - lastDepth >= .seconds(1) {
                    lastDepth = ContinuousClock.now
                    try await publishDepth()
                }
                if ContinuousClock.now - lastDeadLetterCount >= .seconds(5) {
                    lastDeadLetterCount = ContinuousClock.now
                    deadLetters.set(Double(try await store.countDeadLetters()))
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

    /// A recovery in progress: the pure decisions, the cutoff taken when it began, and how
    /// many messages it re-enqueued.
    struct Recovery {
        var state = RedisLossRecovery()
        var cutoff = Date.distantPast
        var requeued = 0
    }

    /// Reads the generation markers and begins a recovery when Redis lost its data. The new
    /// state is kept only once its I/O succeeded; otherwise the next check decides again.
    func checkGeneration(_ recovery: inout Recovery) async throws {
        var next = recovery
        let marker = try await queue.generationMarker()
        guard case .begin(let generation, let lost) = next.state.observed(marker, fresh: UUID().lowercasedString) else {
            recovery = next
            return
        }
        try await queue.markRecovering(generation: generation)
        next.cutoff = try await store.databaseTime()
        next.requeued = 0
        recovery = next
        if lost {
            redisLosses.increment()
            logger.warning("Redis lost its data (generation marker missing): re-enqueueing every unfinished message from Postgres", metadata: ["generation": "\(generation)"])
        } else {
            logger.warning("taking over an unfinished recovery from Redis data loss", metadata: ["generation": "\(generation)"])
        }
    }

    /// Re-enqueues the next 5,000 unfinished messages enqueued before the recovery began,
    /// whatever their age; an empty pass ends the recovery and marks Redis ready.
    func recoveryPass(_ recovery: inout Recovery) async throws {
        var next = recovery
        let items = try await store.unfinished(enqueuedBefore: recovery.cutoff, limit: 5000)
        try await queue.enqueue(items)
        if !items.isEmpty { reconciled.increment(by: Int64(items.count)) }
        next.requeued += items.count
        if case .finish(let generation) = next.state.passFinished(found: items.count) {
            // False when the markers changed meanwhile (lost again, or taken over): the next check acts on it.
            let ready = try await queue.markReady(generation: generation)
            logger.warning(
                "recovery from Redis data loss finished",
                metadata: ["generation": "\(generation)", "requeued": "\(next.requeued)", "marked_ready": "\(ready)"])
        }
        recovery = next
    }

    private func publishDepth() async throws {
        let depth = try await queue.depth()
        depthGauges["ready_transactional"]?.set(Double(depth.readyTransactional))
        depthGauges["ready_bulk"]?.set(Double(depth.readyBulk))
        depthGauges["leased"]?.set(Double(depth.leased))
        depthGauges["delayed"]?.set(Double(depth.delayed))
    }

    /// Deletes one batch of dead letters past their retention (with their events).
    func purgeDeadLetters() async throws {
        let purged = try await store.purgeDeadLetters(olderThanDays: configuration.deadLetterRetentionDays)
        guard purged > 0 else { return }
        purgedDeadLetters.increment(by: Int64(purged))
        logger.info("deleted dead letters past their retention", metadata: ["count": "\(purged)", "days": "\(configuration.deadLetterRetentionDays)"])
    }
}
