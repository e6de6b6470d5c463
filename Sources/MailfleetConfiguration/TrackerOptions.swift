import ArgumentParser

private let settings = Settings.catalogue

/// Everything `mailfleet-tracker` reads.
public struct TrackerOptions: ParsableArguments {
    @Option(name: settings.trackerHost.name, help: settings.trackerHost.help) var hostFlag: String?
    @Option(name: settings.trackerPort.name, help: settings.trackerPort.help) var portFlag: String?
    @Option(name: settings.webhookToleranceSeconds.name, help: settings.webhookToleranceSeconds.help) var webhookToleranceFlag: String?
    @Option(name: settings.machineOpenSeconds.name, help: settings.machineOpenSeconds.help) var machineOpenFlag: String?
    @Option(name: settings.webhookDispatch.name, help: settings.webhookDispatch.help) var webhookDispatchFlag: String?
    @Option(name: settings.webhookConcurrency.name, help: settings.webhookConcurrency.help) var webhookConcurrencyFlag: String?
    @Option(name: settings.webhookBatchSize.name, help: settings.webhookBatchSize.help) var webhookBatchSizeFlag: String?
    @Option(name: settings.webhookConnectTimeoutSeconds.name, help: settings.webhookConnectTimeoutSeconds.help) var webhookConnectTimeoutFlag: String?
    @Option(name: settings.webhookTimeoutSeconds.name, help: settings.webhookTimeoutSeconds.help) var webhookTimeoutFlag: String?
    @Option(name: settings.webhookRetrySchedule.name, help: settings.webhookRetrySchedule.help) var webhookRetryScheduleFlag: String?
    @Option(name: settings.webhookPollSeconds.name, help: settings.webhookPollSeconds.help) var webhookPollFlag: String?
    @OptionGroup public var database: DatabaseOptions
    /// Redis: where Mailgun webhook tokens are remembered.
    @OptionGroup public var queue: QueueOptions
    @Option(name: settings.trackingSecret.name, help: settings.trackingSecret.help) var trackingSecretFlag: String?
    @OptionGroup public var logging: LoggingOptions
    @OptionGroup public var egress: EgressOptions

    /// No flags given.
    public init() {}

    /// Listen address.
    public var host: String { get throws { try settings.trackerHost.value(flag: hostFlag) } }
    /// Listen port.
    public var port: Int { get throws { try settings.trackerPort.value(flag: portFlag) } }
    /// How far a provider webhook's signing time may be from now, in seconds.
    public var webhookToleranceSeconds: Double { get throws { try settings.webhookToleranceSeconds.value(flag: webhookToleranceFlag) } }
    /// How soon after the send an open or click counts as a machine's, in seconds.
    public var machineOpenSeconds: Double { get throws { try settings.machineOpenSeconds.value(flag: machineOpenFlag) } }
    /// Whether this replica delivers webhooks to tenants.
    public var webhookDispatch: Bool { get throws { try settings.webhookDispatch.value(flag: webhookDispatchFlag) } }
    /// Requests open at once per endpoint.
    public var webhookConcurrency: Int { get throws { try settings.webhookConcurrency.value(flag: webhookConcurrencyFlag) } }
    /// Events per request for batching endpoints.
    public var webhookBatchSize: Int { get throws { try settings.webhookBatchSize.value(flag: webhookBatchSizeFlag) } }
    /// Seconds to connect to an endpoint.
    public var webhookConnectTimeoutSeconds: Double { get throws { try settings.webhookConnectTimeoutSeconds.value(flag: webhookConnectTimeoutFlag) } }
    /// Seconds a whole webhook request may take.
    public var webhookTimeoutSeconds: Double { get throws { try settings.webhookTimeoutSeconds.value(flag: webhookTimeoutFlag) } }
    /// Seconds to wait after each failed attempt.
    public var webhookRetrySchedule: [Double] { get throws { try settings.webhookRetrySchedule.value(flag: webhookRetryScheduleFlag) } }
    /// Seconds between looks for due deliveries.
    public var webhookPollSeconds: Double { get throws { try settings.webhookPollSeconds.value(flag: webhookPollFlag) } }
    /// The secret tracking links are signed with.
    public var trackingSecret: String { get throws { try settings.trackingSecret.value(flag: trackingSecretFlag) } }

    /// Refuses a bad value before the command runs.
    public func validate() throws {
        try validateSettings {
            _ = (try host, try port, try trackingSecret, try queue.redisURL, try webhookToleranceSeconds, try machineOpenSeconds)
            _ = (try webhookDispatch, try webhookConcurrency, try webhookBatchSize, try webhookConnectTimeoutSeconds, try webhookTimeoutSeconds)
            _ = (try webhookRetrySchedule, try webhookPollSeconds)
        }
    }
}
