import ArgumentParser

private let settings = Settings.catalogue

/// Everything `mailfleet-worker` reads.
public struct WorkerOptions: ParsableArguments {
    @Option(name: settings.workerHost.name, help: settings.workerHost.help) var hostFlag: String?
    @Option(name: settings.workerPort.name, help: settings.workerPort.help) var portFlag: String?
    @OptionGroup public var database: DatabaseOptions
    @OptionGroup public var queue: QueueOptions
    @Option(name: settings.workerLanes.name, help: settings.workerLanes.help) var lanesFlag: String?
    @Option(name: settings.workerBatch.name, help: settings.workerBatch.help) var batchSizeFlag: String?
    @Option(name: settings.outboxDirectory.name, help: settings.outboxDirectory.help) var outboxDirectoryFlag: String?
    @Option(name: settings.trackerURL.name, help: settings.trackerURL.help) var trackerURLFlag: String?
    @Option(name: settings.trackingSecret.name, help: settings.trackingSecret.help) var trackingSecretFlag: String?
    @Option(name: settings.retryBaseSeconds.name, help: settings.retryBaseSeconds.help) var retryBaseSecondsFlag: String?
    @Option(name: settings.leaseSeconds.name, help: settings.leaseSeconds.help) var leaseSecondsFlag: String?
    @OptionGroup public var logging: LoggingOptions

    /// No flags given.
    public init() {}

    /// Ops listen address.
    public var host: String { get throws { try settings.workerHost.value(flag: hostFlag) } }
    /// Ops listen port.
    public var port: Int { get throws { try settings.workerPort.value(flag: portFlag) } }
    /// Concurrent fetch-and-send lanes.
    public var lanes: Int { get throws { try settings.workerLanes.value(flag: lanesFlag) } }
    /// Messages per fetch.
    public var batchSize: Int { get throws { try settings.workerBatch.value(flag: batchSizeFlag) } }
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

    /// Refuses a bad value before the command runs.
    public func validate() throws {
        try validateSettings {
            _ = (try host, try port, try lanes, try batchSize, try outboxDirectory, try trackerURL, try trackingSecret)
            _ = (try retryBaseSeconds, try leaseSeconds)
        }
    }
}
