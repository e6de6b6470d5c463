import ArgumentParser

private let settings = Settings.catalogue

/// Everything `mailfleet-scheduler` reads.
public struct SchedulerOptions: ParsableArguments {
    @Option(name: settings.schedulerHost.name, help: settings.schedulerHost.help) var hostFlag: String?
    @Option(name: settings.schedulerPort.name, help: settings.schedulerPort.help) var portFlag: String?
    @OptionGroup public var database: DatabaseOptions
    @OptionGroup public var queue: QueueOptions
    @Option(name: settings.reconcileAfterSeconds.name, help: settings.reconcileAfterSeconds.help) var reconcileAfterFlag: String?
    @Option(name: settings.reconcileEverySeconds.name, help: settings.reconcileEverySeconds.help) var reconcileEveryFlag: String?
    @Option(name: settings.deadLetterRetentionDays.name, help: settings.deadLetterRetentionDays.help) var deadLetterRetentionFlag: String?
    @Option(name: settings.messageRetentionDays.name, help: settings.messageRetentionDays.help) var messageRetentionFlag: String?
    @Option(name: settings.leaderLeaseSeconds.name, help: settings.leaderLeaseSeconds.help) var leaderLeaseFlag: String?
    @Option(name: settings.healthBounceThresholdPercent.name, help: settings.healthBounceThresholdPercent.help) var healthBounceFlag: String?
    @Option(name: settings.healthMinimumVolume.name, help: settings.healthMinimumVolume.help) var healthVolumeFlag: String?
    @Option(name: settings.healthEvaluateEverySeconds.name, help: settings.healthEvaluateEverySeconds.help) var healthEveryFlag: String?
    @Option(name: settings.campaignChunk.name, help: settings.campaignChunk.help) var campaignChunkFlag: String?
    @OptionGroup public var logging: LoggingOptions

    /// No flags given.
    public init() {}

    /// Ops listen address.
    public var host: String { get throws { try settings.schedulerHost.value(flag: hostFlag) } }
    /// Ops listen port.
    public var port: Int { get throws { try settings.schedulerPort.value(flag: portFlag) } }
    /// Seconds without progress before a queued message is enqueued again.
    public var reconcileAfterSeconds: Double { get throws { try settings.reconcileAfterSeconds.value(flag: reconcileAfterFlag) } }
    /// Seconds between reconciliation passes.
    public var reconcileEverySeconds: Double { get throws { try settings.reconcileEverySeconds.value(flag: reconcileEveryFlag) } }
    /// Days a failed message is kept before it is deleted.
    public var deadLetterRetentionDays: Int { get throws { try settings.deadLetterRetentionDays.value(flag: deadLetterRetentionFlag) } }
    /// Days messages and their events are kept.
    public var messageRetentionDays: Int { get throws { try settings.messageRetentionDays.value(flag: messageRetentionFlag) } }

    /// Seconds the leader lease lasts without renewal.
    public var leaderLeaseSeconds: Double { get throws { try settings.leaderLeaseSeconds.value(flag: leaderLeaseFlag) } }

    /// Percent of sent mail hard-bouncing above which bulk mail pauses.
    public var healthBounceThresholdPercent: Int { get throws { try settings.healthBounceThresholdPercent.value(flag: healthBounceFlag) } }
    /// Messages sent in a window before its rates count.
    public var healthMinimumVolume: Int { get throws { try settings.healthMinimumVolume.value(flag: healthVolumeFlag) } }
    /// Seconds between sender-health evaluations.
    public var healthEvaluateEverySeconds: Double { get throws { try settings.healthEvaluateEverySeconds.value(flag: healthEveryFlag) } }

    /// Recipients a campaign runner expands per transaction.
    public var campaignChunk: Int { get throws { try settings.campaignChunk.value(flag: campaignChunkFlag) } }

    /// Refuses a bad value before the command runs.
    public func validate() throws {
        try validateSettings {
            _ = (try host, try port, try reconcileAfterSeconds, try reconcileEverySeconds, try deadLetterRetentionDays, try leaderLeaseSeconds)
            _ = try messageRetentionDays
            _ = (try healthBounceThresholdPercent, try healthMinimumVolume, try healthEvaluateEverySeconds, try campaignChunk)
        }
    }
}
