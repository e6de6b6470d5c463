import ArgumentParser

private let settings = Settings.catalogue

/// Everything `mailfleet-worker` reads.
public struct WorkerOptions: ParsableArguments {
    @Option(name: settings.workerHost.name, help: settings.workerHost.help) var hostFlag: String?
    @Option(name: settings.workerPort.name, help: settings.workerPort.help) var portFlag: String?
    @OptionGroup public var database: DatabaseOptions
    @OptionGroup public var queue: QueueOptions
    @Option(name: settings.workerLanes.name, help: settings.workerLanes.help) var lanesFlag: String?
    @Option(name: settings.workerTransactionalLanes.name, help: settings.workerTransactionalLanes.help) var transactionalLanesFlag: String?
    @Option(name: settings.workerBatch.name, help: settings.workerBatch.help) var batchSizeFlag: String?
    @Option(name: settings.fairQuantum.name, help: settings.fairQuantum.help) var fairQuantumFlag: String?
    @Option(name: settings.bulkMinimumSharePercent.name, help: settings.bulkMinimumSharePercent.help) var bulkMinimumShareFlag: String?
    @Option(name: settings.bulkLingerMs.name, help: settings.bulkLingerMs.help) var bulkLingerMsFlag: String?
    @Option(name: settings.outboxDirectory.name, help: settings.outboxDirectory.help) var outboxDirectoryFlag: String?
    @Option(name: settings.trackerURL.name, help: settings.trackerURL.help) var trackerURLFlag: String?
    @Option(name: settings.trackingSecret.name, help: settings.trackingSecret.help) var trackingSecretFlag: String?
    @Option(name: settings.retryBaseSeconds.name, help: settings.retryBaseSeconds.help) var retryBaseSecondsFlag: String?
    @Option(name: settings.leaseSeconds.name, help: settings.leaseSeconds.help) var leaseSecondsFlag: String?
    @Option(name: settings.bulkPauseRecheckSeconds.name, help: settings.bulkPauseRecheckSeconds.help) var bulkPauseRecheckFlag: String?
    @Option(name: settings.retryMaxDelaySeconds.name, help: settings.retryMaxDelaySeconds.help) var retryMaxDelaySecondsFlag: String?
    @Option(name: settings.retryMaxAttempts.name, help: settings.retryMaxAttempts.help) var retryMaxAttemptsFlag: String?
    @Option(name: settings.retryMaxAgeHours.name, help: settings.retryMaxAgeHours.help) var retryMaxAgeHoursFlag: String?
    @Option(name: settings.circuitWindow.name, help: settings.circuitWindow.help) var circuitWindowFlag: String?
    @Option(name: settings.circuitMinimumCalls.name, help: settings.circuitMinimumCalls.help) var circuitMinimumCallsFlag: String?
    @Option(name: settings.circuitFailureRate.name, help: settings.circuitFailureRate.help) var circuitFailureRateFlag: String?
    @Option(name: settings.circuitSlowCallMs.name, help: settings.circuitSlowCallMs.help) var circuitSlowCallMsFlag: String?
    @Option(name: settings.circuitOpenBaseMs.name, help: settings.circuitOpenBaseMs.help) var circuitOpenBaseMsFlag: String?
    @Option(name: settings.circuitOpenMaxMs.name, help: settings.circuitOpenMaxMs.help) var circuitOpenMaxMsFlag: String?
    @Option(name: settings.circuitHalfOpenProbes.name, help: settings.circuitHalfOpenProbes.help) var circuitHalfOpenProbesFlag: String?
    @Option(name: settings.circuitProbeTimeoutMs.name, help: settings.circuitProbeTimeoutMs.help) var circuitProbeTimeoutMsFlag: String?
    @OptionGroup public var logging: LoggingOptions

    /// No flags given.
    public init() {}

    /// Ops listen address.
    public var host: String { get throws { try settings.workerHost.value(flag: hostFlag) } }
    /// Ops listen port.
    public var port: Int { get throws { try settings.workerPort.value(flag: portFlag) } }
    /// Concurrent fetch-and-send lanes.
    public var lanes: Int { get throws { try settings.workerLanes.value(flag: lanesFlag) } }
    /// Lanes that fetch transactional mail alone.
    public var transactionalLanes: Int { get throws { try settings.workerTransactionalLanes.value(flag: transactionalLanesFlag) } }
    /// Messages per fetch.
    public var batchSize: Int { get throws { try settings.workerBatch.value(flag: batchSizeFlag) } }
    /// Entries per turn of a tenant of weight 1.
    public var fairQuantum: Int { get throws { try settings.fairQuantum.value(flag: fairQuantumFlag) } }
    /// Percent of every fetch kept for bulk.
    public var bulkMinimumSharePercent: Int { get throws { try settings.bulkMinimumSharePercent.value(flag: bulkMinimumShareFlag) } }
    /// Milliseconds shareable bulk messages wait for more.
    public var bulkLingerMs: Int { get throws { try settings.bulkLingerMs.value(flag: bulkLingerMsFlag) } }
    /// Where the outbox provider writes `.eml` files.
    public var outboxDirectory: String { get throws { try settings.outboxDirectory.value(flag: outboxDirectoryFlag) } }
    /// The tracker's public URL.
    public var trackerURL: String { get throws { try settings.trackerURL.value(flag: trackerURLFlag) } }
    /// The secret tracking links are signed with.
    public var trackingSecret: String { get throws { try settings.trackingSecret.value(flag: trackingSecretFlag) } }
    /// Base retry delay in seconds.
    public var retryBaseSeconds: Double { get throws { try settings.retryBaseSeconds.value(flag: retryBaseSecondsFlag) } }
    /// Lease in seconds.
    public var leaseSeconds: Double { get throws { try settings.leaseSeconds.value(flag: leaseSecondsFlag) } }
    /// Seconds a bulk message held by a sender-health pause waits.
    public var bulkPauseRecheckSeconds: Double { get throws { try settings.bulkPauseRecheckSeconds.value(flag: bulkPauseRecheckFlag) } }
    /// Longest retry delay in seconds.
    public var retryMaxDelaySeconds: Double { get throws { try settings.retryMaxDelaySeconds.value(flag: retryMaxDelaySecondsFlag) } }
    /// Attempts per message before it is dead-lettered.
    public var retryMaxAttempts: Int { get throws { try settings.retryMaxAttempts.value(flag: retryMaxAttemptsFlag) } }
    /// Hours after acceptance past which a failed message is dead-lettered.
    public var retryMaxAgeHours: Int { get throws { try settings.retryMaxAgeHours.value(flag: retryMaxAgeHoursFlag) } }
    /// Calls the circuit breaker's failure rate is taken over.
    public var circuitWindow: Int { get throws { try settings.circuitWindow.value(flag: circuitWindowFlag) } }
    /// Calls the window must hold before the circuit can open.
    public var circuitMinimumCalls: Int { get throws { try settings.circuitMinimumCalls.value(flag: circuitMinimumCallsFlag) } }
    /// Percent of failed calls that opens the circuit.
    public var circuitFailureRate: Int { get throws { try settings.circuitFailureRate.value(flag: circuitFailureRateFlag) } }
    /// Milliseconds after which a call counts as failed.
    public var circuitSlowCallMs: Int { get throws { try settings.circuitSlowCallMs.value(flag: circuitSlowCallMsFlag) } }
    /// The first open period in milliseconds.
    public var circuitOpenBaseMs: Int { get throws { try settings.circuitOpenBaseMs.value(flag: circuitOpenBaseMsFlag) } }
    /// The longest open period in milliseconds.
    public var circuitOpenMaxMs: Int { get throws { try settings.circuitOpenMaxMs.value(flag: circuitOpenMaxMsFlag) } }
    /// Probe calls in half-open.
    public var circuitHalfOpenProbes: Int { get throws { try settings.circuitHalfOpenProbes.value(flag: circuitHalfOpenProbesFlag) } }
    /// Milliseconds after which an unanswered probe is given out again.
    public var circuitProbeTimeoutMs: Int { get throws { try settings.circuitProbeTimeoutMs.value(flag: circuitProbeTimeoutMsFlag) } }

    /// Refuses a bad value before the command runs.
    public func validate() throws {
        try validateSettings {
            _ = (try host, try port, try lanes, try transactionalLanes, try batchSize, try outboxDirectory, try trackerURL, try trackingSecret)
            _ = (try retryBaseSeconds, try leaseSeconds, try retryMaxDelaySeconds, try retryMaxAttempts, try retryMaxAgeHours)
            _ = (try circuitWindow, try circuitMinimumCalls, try circuitFailureRate, try circuitSlowCallMs)
            _ = (try circuitOpenBaseMs, try circuitOpenMaxMs, try circuitHalfOpenProbes, try circuitProbeTimeoutMs)
            _ = try bulkPauseRecheckSeconds
            _ = (try fairQuantum, try bulkMinimumSharePercent, try bulkLingerMs)
        }
    }
}
