import MailfleetConfiguration
import MailfleetCore
import MailfleetScheduler

extension SchedulerConfiguration {
    /// The scheduler's configuration from its settings.
    init(_ options: SchedulerOptions) throws {
        self.init()
        partitions = try options.queue.partitions
        reconcileAfterSeconds = try options.reconcileAfterSeconds
        reconcileEvery = .milliseconds(Int(try options.reconcileEverySeconds * 1000))
        deadLetterRetentionDays = try options.deadLetterRetentionDays
        retention = MessageRetention(days: try options.messageRetentionDays)
        leaderLeaseMilliseconds = Int(try options.leaderLeaseSeconds * 1000)
        healthPolicy = HealthPolicy(bounceThreshold: Double(try options.healthBounceThresholdPercent) / 100, minimumVolume: try options.healthMinimumVolume)
        healthEvery = .milliseconds(Int(try options.healthEvaluateEverySeconds * 1000))
    }
}

extension CampaignRunnerConfiguration {
    /// The campaign runner's configuration from the scheduler's settings.
    init(_ options: SchedulerOptions) throws {
        self.init()
        chunk = try options.campaignChunk
    }
}
