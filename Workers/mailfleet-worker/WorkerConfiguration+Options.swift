import MailfleetConfiguration
import MailfleetCore
import MailfleetWorker

extension WorkerConfiguration {
    /// The worker's configuration from its settings.
    init(_ options: WorkerOptions) throws {
        self.init()
        partitions = try options.queue.partitions
        lanes = try options.lanes
        batchSize = try options.batchSize
        outboxDirectory = try options.outboxDirectory
        trackerBaseURL = try options.trackerURL
        trackingSecret = try options.trackingSecret
        retry = RetryPolicy(baseDelay: try options.retryBaseSeconds)
        leaseSeconds = try options.leaseSeconds
    }
}
