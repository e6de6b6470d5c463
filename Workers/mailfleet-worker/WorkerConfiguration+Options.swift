import MailfleetConfiguration
import MailfleetCore
import MailfleetStore
import MailfleetWorker

extension WorkerConfiguration {
    /// The worker's configuration from its settings.
    init(_ options: WorkerOptions) throws {
        self.init()
        partitions = try options.queue.partitions
        lanes = try options.lanes
        transactionalLanes = try options.transactionalLanes
        batchSize = try options.batchSize
        fairness = MessageQueue.Fairness(
            quantum: try options.fairQuantum, bulkMinimumPercent: try options.bulkMinimumSharePercent, bulkLingerMs: try options.bulkLingerMs)
        outboxDirectory = try options.outboxDirectory
        trackerBaseURL = try options.trackerURL
        trackingSecret = try options.trackingSecret
        retry = RetryPolicy(
            baseDelay: try options.retryBaseSeconds, maxDelay: try options.retryMaxDelaySeconds,
            maxAttempts: try options.retryMaxAttempts, maxAge: Double(try options.retryMaxAgeHours) * 3600)
        leaseSeconds = try options.leaseSeconds
        bulkPauseRecheckSeconds = try options.bulkPauseRecheckSeconds
        circuitBreaker = CircuitBreaker.Configuration(
            windowSize: try options.circuitWindow, minimumCalls: try options.circuitMinimumCalls,
            failureRatePercent: try options.circuitFailureRate, slowCallMs: try options.circuitSlowCallMs,
            openBaseMs: try options.circuitOpenBaseMs, openMaxMs: try options.circuitOpenMaxMs,
            halfOpenProbes: try options.circuitHalfOpenProbes, probeTimeoutMs: try options.circuitProbeTimeoutMs)
    }
}
