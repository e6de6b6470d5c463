import ArgumentParser
import Logging

private let settings = Settings.catalogue

/// `--log-level` (`MAILFLEET_LOG_LEVEL`).
public struct LoggingOptions: ParsableArguments {
    @Option(name: settings.logLevel.name, help: settings.logLevel.help) var logLevelFlag: String?

    /// No flags given.
    public init() {}

    /// The lowest level written.
    public var logLevel: Logger.Level { get throws { try settings.logLevel.value(flag: logLevelFlag) } }

    /// Refuses a bad value before the command runs.
    public func validate() throws { try validateSettings { _ = try logLevel } }
}
