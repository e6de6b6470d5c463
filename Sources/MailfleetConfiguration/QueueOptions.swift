import ArgumentParser

private let settings = Settings.catalogue

/// `--redis-url` and `--partitions`: where the queues are and how they are split.
public struct QueueOptions: ParsableArguments {
    @Option(name: settings.redisURL.name, help: settings.redisURL.help) var redisURLFlag: String?
    @Option(name: settings.partitions.name, help: settings.partitions.help) var partitionsFlag: String?

    /// No flags given.
    public init() {}

    /// The Redis URL.
    public var redisURL: String { get throws { try settings.redisURL.value(flag: redisURLFlag) } }
    /// Queue partitions.
    public var partitions: Int { get throws { try settings.partitions.value(flag: partitionsFlag) } }

    /// Refuses a bad value before the command runs.
    public func validate() throws { try validateSettings { _ = (try redisURL, try partitions) } }
}
