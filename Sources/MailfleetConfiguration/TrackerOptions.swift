import ArgumentParser

private let settings = Settings.catalogue

/// Everything `mailfleet-tracker` reads.
public struct TrackerOptions: ParsableArguments {
    @Option(name: settings.trackerHost.name, help: settings.trackerHost.help) var hostFlag: String?
    @Option(name: settings.trackerPort.name, help: settings.trackerPort.help) var portFlag: String?
    @Option(name: settings.webhookToleranceSeconds.name, help: settings.webhookToleranceSeconds.help) var webhookToleranceFlag: String?
    @Option(name: settings.machineOpenSeconds.name, help: settings.machineOpenSeconds.help) var machineOpenFlag: String?
    @OptionGroup public var database: DatabaseOptions
    /// Redis: where Mailgun webhook tokens are remembered.
    @OptionGroup public var queue: QueueOptions
    @Option(name: settings.trackingSecret.name, help: settings.trackingSecret.help) var trackingSecretFlag: String?
    @OptionGroup public var logging: LoggingOptions

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
    /// The secret tracking links are signed with.
    public var trackingSecret: String { get throws { try settings.trackingSecret.value(flag: trackingSecretFlag) } }

    /// Refuses a bad value before the command runs.
    public func validate() throws { try validateSettings { _ = (try host, try port, try trackingSecret, try queue.redisURL, try webhookToleranceSeconds, try machineOpenSeconds) } }
}
