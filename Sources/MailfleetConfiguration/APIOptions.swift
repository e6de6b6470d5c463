import ArgumentParser

private let settings = Settings.catalogue

/// Everything `mailfleet-api` reads.
public struct APIOptions: ParsableArguments {
    @Option(name: settings.apiHost.name, help: settings.apiHost.help) var hostFlag: String?
    @Option(name: settings.apiPort.name, help: settings.apiPort.help) var portFlag: String?
    @OptionGroup public var database: DatabaseOptions
    @Option(name: settings.databasePoolSize.name, help: settings.databasePoolSize.help) var databasePoolSizeFlag: String?
    @OptionGroup public var queue: QueueOptions
    @Option(name: settings.apiRateLimit.name, help: settings.apiRateLimit.help) var rateLimitFlag: String?
    @Option(name: settings.trackerURL.name, help: settings.trackerURL.help) var trackerURLFlag: String?
    @Option(name: settings.statusToken.name, help: settings.statusToken.help) var statusTokenFlag: String?
    @Option(name: settings.trackingSecret.name, help: settings.trackingSecret.help) var trackingSecretFlag: String?
    @OptionGroup public var logging: LoggingOptions
    @OptionGroup public var egress: EgressOptions

    /// No flags given.
    public init() {}

    /// Listen address.
    public var host: String { get throws { try settings.apiHost.value(flag: hostFlag) } }
    /// Listen port.
    public var port: Int { get throws { try settings.apiPort.value(flag: portFlag) } }
    /// Postgres connections.
    public var databasePoolSize: Int { get throws { try settings.databasePoolSize.value(flag: databasePoolSizeFlag) } }
    /// Requests per minute per tenant without its own limit.
    public var rateLimitPerMinute: Int { get throws { try settings.apiRateLimit.value(flag: rateLimitFlag) } }
    /// The tracker's public URL, under which webhook URLs are shown.
    public var trackerURL: String { get throws { try settings.trackerURL.value(flag: trackerURLFlag) } }

    /// The tracking secret, which also signs double opt-in confirmation links.
    public var trackingSecret: String { get throws { try settings.trackingSecret.value(flag: trackingSecretFlag) } }

    /// The shortest status page password accepted.
    public static let minimumStatusTokenLength = 16

    /// The status page's operator credential; nil when unset (the page is off).
    public var statusToken: String? {
        get throws {
            let token = try settings.statusToken.value(flag: statusTokenFlag)
            if token.isEmpty { return nil }
            // The page shows every tenant's accounts and recent errors, and its route has no rate
            // limit: a short or sample password is refused rather than guessed.
            guard token.count >= Self.minimumStatusTokenLength, token != "change-me" else {
                throw ConfigurationError(
                    source: statusTokenFlag == nil ? settings.statusToken.variable : "--status-token", text: "***",
                    expectation: "a random value of at least \(Self.minimumStatusTokenLength) characters, or unset to turn the page off")
            }
            return token
        }
    }

    /// Refuses a bad value before the command runs.
    public func validate() throws { try validateSettings { _ = (try host, try port, try databasePoolSize, try rateLimitPerMinute, try trackerURL, try statusToken, try trackingSecret) } }
}
