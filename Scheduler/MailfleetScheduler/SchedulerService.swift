import Foundation
import Logging
import MailfleetConfiguration
import MailfleetCore
import MailfleetObservability
import MailfleetRedis
import MailfleetStore
import Metrics
import ServiceLifecycle
import Synchronization

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
    /// Leadership lease; a standby takes over within this long (plus one `tick`) after the
    /// leader dies, and a leader whose renewals go unanswered this long stops leading. Default 5 s.
    public var leaderLeaseMilliseconds = Int(Settings.catalogue.leaderLeaseSeconds.defaultValue * 1000)
    /// Time between checks of Redis's generation markers (one round trip), so a Redis that
    /// lost its data is noticed and refilled from Postgres within about this long. Default 1 s.
    public var generationCheckEvery: Duration = .seconds(1)
    /// Days a failed message (a dead letter) is kept for inspection and re-drive; the leader
    /// then deletes it, at most 5,000 per reconciliation pass. Default 30.
    public var deadLetterRetentionDays = Settings.catalogue.deadLetterRetentionDays.defaultValue
    /// How long messages and their events are kept; the leader makes and drops the day
    /// partitions and deletes what a whole partition cannot cover (`RetentionStore`).
    public var retention = MessageRetention(days: Settings.catalogue.messageRetentionDays.defaultValue)
    /// Time between the leader's retention passes (the first comes as it starts leading).
    /// Default 10 minutes; a day's partitions are made three days ahead.
    public var retentionEvery: Duration = .seconds(600)
    /// When the leader pauses a tenant's (or a domain's) bulk mail for its sender health.
    public var healthPolicy = HealthPolicy(
        bounceThreshold: Double(Settings.catalogue.healthBounceThresholdPercent.defaultValue) / 100,
        minimumVolume: Settings.catalogue.healthMinimumVolume.defaultValue)
    /// Time between the leader's sender-health evaluations. Default 60 s (the counters' minute).
    public var healthEvery: Duration = .seconds(Settings.catalogue.healthEvaluateEverySeconds.defaultValue)
    /// Time between checks of the tenants' fair-share weights in Postgres; a change reaches
    /// the queue's weight tables within about this long. Default 5 s.
    public var weightsEvery: Duration = .seconds(5)
    /// Tenants per lane with their own series in `mailfleet_queue_tenant_ready`. Default 10.
    public var backlogTenants = 10
    /// The defaults.
    public init() {}
}

/// The scheduler: one leader among replicas (a Redis lease) promotes due delayed sends and
/// retries, reclaims expired leases of dead workers, reconciles Postgres with Redis (at once and
/// in full when Redis lost its data), deletes dead letters past their retention, keeps
/// messages and events to their retention (day partitions made ahead and dropped), pauses bulk
/// mail of senders whose health passed a limit, publishes the tenants' fair-share weights to
/// the queue, and publishes queue depths, the age of the oldest ready entry per lane, the
/// largest tenant backlogs, the dead-letter count and the count of paused tenants.
public final class SchedulerService: Service {
    let configuration: SchedulerConfiguration
    private let lease: LeaderLease
    let queue: MessageQueue
    private let store: MessageStore
    let tenants: TenantStore
    let retentionStore: RetentionStore
    /// True while a retention pass runs.
    let retentionRunning = Mutex(false)
    let logger: Logger

    private let promoted = Telemetry.counter("scheduler_promoted_total", help: "Delayed entries moved to ready")
    private let reclaimed = Telemetry.counter("scheduler_reclaimed_total", help: "Expired leases returned to ready")
    private let reconciled = Telemetry.counter("scheduler_reconciled_total", help: "Messages re-enqueued from Postgres")
    private let redisLosses = Telemetry.counter("redis_data_loss_total", help: "Times Redis was found to have lost its data (a missing generation marker)")
    private let leaderGauge = Telemetry.gauge("scheduler_is_leader", help: "1 when this replica leads")
    private let deadLetters = Telemetry.gauge("dead_letters", help: "Failed messages kept in Postgres (dead letters), counted every 5 s")
    private let purgedDeadLetters = Telemetry.counter("dead_letters_purged_total", help: "Dead letters deleted after their retention period")
    let pausedTenants = Telemetry.gauge("bulk_paused_tenants", help: "Tenants with bulk mail paused for sender health (whole or some domain), counted every 5 s")
    let bulkPauses = Telemetry.counter("bulk_pauses_total", help: "Bulk pauses (of a tenant or a domain) the leader made for sender health")
    let partitionsMade = Telemetry.counter("retention_partitions_made_total", help: "Day partitions of messages (each with its events twin) made ahead")
    let partitionsDropped = Telemetry.counter("retention_partitions_dropped_total", help: "Day partitions of messages (each with its events twin) dropped after the retention")
    let partitionsHeld = Telemetry.gauge("retention_partitions_held", help: "Day partitions past the retention kept because a message in them is still owed work, at the last pass")
    let retentionDeleted = Telemetry.counter("retention_rows_deleted_total", help: "Rows deleted one by one for retention (a tenant's shorter retention, the catch-all partitions)")
    private let depthGauges: [String: Meter]
    private let oldestAgeGauges: [Priority: Meter]
    let tenantBacklogs = TopTenantGauge(
        "queue_tenant_ready", groupLabel: "lane",
        help: "Ready queue entries of the tenants with the largest backlogs per lane; the rest summed as tenant_id=\"other\"")
    /// Milliseconds on a monotonic clock, for the lease arithmetic (immune to wall-clock steps).
    private let clock = MonotonicMilliseconds()

    /// Creates the scheduler.
    public init(
        configuration: SchedulerConfiguration, redis: RedisClient, queue: MessageQueue, store: MessageStore, tenants: TenantStore,
        retention: RetentionStore, logger: Logger
    ) {
        self.configuration = configuration
        self.retentionStore = retention
        self.lease = LeaderLease(redis: redis, holder: UUID().lowercasedString, milliseconds: configuration.leaderLeaseMilliseconds)
        self.queue = queue
        self.store = store
        self.tenants = tenants
        self.logger = logger
        var gauges: [String: Meter] = [:]
        for state in ["ready_transactional", "ready_bulk", "leased", "delayed"] {
            gauges[state] = Telemetry.gauge("queue_depth", help: "Queue entries by state", labels: [("state", state)])
        }
        depthGauges = gauges
        var ages: [Priority: Meter] = [:]
        for lane in Priority.allCases {
            ages[lane] = Telemetry.gauge(
                "queue_oldest_age_seconds", help: "Seconds since the oldest head of the lane's ready lists was accepted",
                labels: [("lane", lane.rawValue)])
        }
        oldestAgeGauges = ages
    }

    /// Runs until graceful shutdown, then gives up leadership.
    ///
    /// Every replica asks for the lease every `tick`, so a standby takes over as soon as a dead
    /// leader's lease runs out. A leader acts only while `Leadership` says its last renewal is
    /// still in force, checked again before each step of its pass, so one that lost the lease
    /// (paused, or cut off from Redis) stops at once rather than at its next renewal. An
    /// unreachable Redis or Postgres is logged once per outage, not per pass; the loop backs off
    /// while Redis is away and never exits for it.
    public func run() async throws {
        logger.info("scheduler started", metadata: ["id": "\(lease.holder)", "partitions": "\(configuration.partitions)"])
        var loop = Loop(leadership: Leadership(leaseMs: configuration.leaderLeaseMilliseconds))
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let sentAt = clock.nowMs()
            do {
                let held = try await lease.acquire()
                redisAnswered(&loop)
                settle(loop.leadership.acquired(held, sentAtMs: sentAt, nowMs: clock.nowMs()), &loop)
            } catch {
                failed(error, &loop)
                settle(loop.leadership.acquireFailed(nowMs: clock.nowMs()), &loop)
            }
            if loop.leadership.isLeading(atMs: clock.nowMs()) {
                do {
                    try await leaderPass(&loop)
                } catch {
                    failed(error, &loop)
                }
                settle(loop.leadership.check(nowMs: clock.nowMs()), &loop)
            }
            if ContinuousClock.now - loop.lastDepth >= .seconds(1) {
                loop.lastDepth = ContinuousClock.now
                do { try await publishDepth() } catch { failed(error, &loop) }
            }
            if ContinuousClock.now - loop.lastDeadLetterCount >= .seconds(5) {
                loop.lastDeadLetterCount = ContinuousClock.now
                do {
                    deadLetters.set(Double(try await store.countDeadLetters()))
                    pausedTenants.set(Double(try await tenants.pausedTenantCount()))
                    databaseAnswered(&loop)
                } catch {
                    failed(error, &loop)
                }
            }
            try? await Task.sleep(for: max(configuration.tick, .milliseconds(loop.redisOutage.delayMs)))
        }
        if loop.leadership.isLeading(atMs: clock.nowMs()) { _ = try? await lease.release() }
        logger.info("scheduler stopped")
    }

    /// The state of the scheduler's loop.
    struct Loop {
        var leadership: Leadership
        var recovery = Recovery()
        var lastDepth = ContinuousClock.now - .seconds(60)
        var lastDeadLetterCount = ContinuousClock.now - .seconds(60)
        var lastReconcile = ContinuousClock.now
        var reconcileCursor: MessageStore.StalledCursor?
        var lastHealthCheck = ContinuousClock.now
        var lastWeightsCheck = ContinuousClock.now - .seconds(60)
        var lastRetention: ContinuousClock.Instant?
        var weights: (weights: [UUID: Int], at: ContinuousClock.Instant)?
        var lastGenerationCheck = ContinuousClock.now - .seconds(60)
        var redisOutage = Outage()
        var databaseOutage = Outage()
    }

    /// One pass of the leader's work; each step runs only while the lease is still this replica's.
    private func leaderPass(_ loop: inout Loop) async throws {
        try await tick()
        guard loop.leadership.isLeading(atMs: clock.nowMs()) else { return }
        if ContinuousClock.now - loop.lastGenerationCheck >= configuration.generationCheckEvery {
            loop.lastGenerationCheck = ContinuousClock.now
            try await checkGeneration(&loop.recovery)
        }
        guard loop.leadership.isLeading(atMs: clock.nowMs()) else { return }
        if loop.recovery.state.recovering != nil {
            // Redis lost its weight tables too: publish them again with the entries.
            loop.weights = nil
            try await recoveryPass(&loop.recovery)
            databaseAnswered(&loop)
        }
        guard loop.leadership.isLeading(atMs: clock.nowMs()) else { return }
        if ContinuousClock.now - loop.lastReconcile >= configuration.reconcileEvery {
            loop.lastReconcile = ContinuousClock.now
            try await reconcile(&loop.reconcileCursor)
            try await store.purgeExpiredIdempotencyKeys()
            try await purgeDeadLetters()
            databaseAnswered(&loop)
        }
        guard loop.leadership.isLeading(atMs: clock.nowMs()) else { return }
        if ContinuousClock.now - loop.lastWeightsCheck >= configuration.weightsEvery {
            loop.lastWeightsCheck = ContinuousClock.now
            loop.weights = try await publishWeights(last: loop.weights)
            databaseAnswered(&loop)
        }
        guard loop.leadership.isLeading(atMs: clock.nowMs()) else { return }
        // The retention pass runs beside the loop, which must keep promoting and reclaiming
        // meanwhile; one at a time.
        if loop.lastRetention.map({ ContinuousClock.now - $0 >= configuration.retentionEvery }) ?? true,
           retentionRunning.withLock({ running in
               guard !running else { return false }
               running = true
               return true
           }) {
            loop.lastRetention = ContinuousClock.now
            Task {
                await keepRetention()
                retentionRunning.withLock { $0 = false }
            }
        }
        guard loop.leadership.isLeading(atMs: clock.nowMs()) else { return }
        if ContinuousClock.now - loop.lastHealthCheck >= configuration.healthEvery {
            loop.lastHealthCheck = ContinuousClock.now
            try await evaluateHealth()
            databaseAnswered(&loop)
        }
    }

    /// Logs and counts a change of role; a new leader reads the markers at once, a former one
    /// forgets its recovery.
    private func settle(_ change: Leadership.Change?, _ loop: inout Loop) {
        guard let change else { return }
        logger.info(change == .became ? "became leader" : "lost leadership")
        leaderGauge.set(change == .became ? 1 : 0)
        loop.recovery = Recovery()
        loop.lastGenerationCheck = ContinuousClock.now - .seconds(60)
        loop.weights = nil
        loop.lastWeightsCheck = ContinuousClock.now - .seconds(60)
    }

    /// A failed step: the start of a Redis or Postgres outage is logged once, its end when the
    /// dependency answers again; other errors are logged each time.
    private func failed(_ error: any Error, _ loop: inout Loop) {
        let now = clock.nowMs()
        if error is RedisError {
            if loop.redisOutage.failed(atMs: now) {
                logger.error("Redis unreachable; scheduling paused until it answers", metadata: ["error": "\(error)"])
            }
        } else if loop.databaseOutage.failed(atMs: now) {
            logger.error("scheduler pass failed (Postgres unreachable?); reconciliation paused until it answers", metadata: ["error": "\(error)"])
        }
    }

    private func redisAnswered(_ loop: inout Loop) {
        if let ended = loop.redisOutage.succeeded(atMs: clock.nowMs()) {
            logger.info("Redis reachable again; scheduling resumed", metadata: ["outage_ms": "\(ended.durationMs)", "failed_attempts": "\(ended.failures)"])
        }
    }

    private func databaseAnswered(_ loop: inout Loop) {
        if let ended = loop.databaseOutage.succeeded(atMs: clock.nowMs()) {
            logger.info("Postgres reachable again; reconciliation resumed", metadata: ["outage_ms": "\(ended.durationMs)", "failed_attempts": "\(ended.failures)"])
        }
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

    /// Re-enqueues messages Postgres holds as unfinished that show no progress, one page of
    /// the scan per pass (`cursor` carries it on; it starts again after the last page). One
    /// whose entry is still on the queue (a long backlog, a tenant held by its limit) is only
    /// waiting its turn: a second entry would be fetched and claimed for nothing, so it is left
    /// alone, and unwritten: a held backlog costs reads, not a rewrite of every row.
    func reconcile(_ cursor: inout MessageStore.StalledCursor?) async throws {
        let page = try await store.stalled(olderThan: configuration.reconcileAfterSeconds, after: cursor, limit: 5000)
        cursor = page.next
        guard !page.items.isEmpty else { return }
        let present = try await queue.onQueue(page.items)
        let absent = page.items.filter { !present.contains($0.id) }
        guard !absent.isEmpty else { return }
        let unfinished = try await store.markEnqueued(absent.map(\.id))
        let stalled = absent.filter { unfinished.contains($0.id) }
        guard !stalled.isEmpty else { return }
        try await queue.enqueue(stalled)
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
        let oldest = try await queue.oldestReady()
        let now = Date()
        for (lane, gauge) in oldestAgeGauges { gauge.set(oldest.ageSeconds(lane, at: now)) }
        try await publishTenantBacklogs((depth.readyTransactional, depth.readyBulk))
    }

    /// Deletes one batch of dead letters past their retention (with their events).
    func purgeDeadLetters() async throws {
        let purged = try await store.purgeDeadLetters(olderThanDays: configuration.deadLetterRetentionDays)
        guard purged > 0 else { return }
        purgedDeadLetters.increment(by: Int64(purged))
        logger.info("deleted dead letters past their retention", metadata: ["count": "\(purged)", "days": "\(configuration.deadLetterRetentionDays)"])
    }
}
