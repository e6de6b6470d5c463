import ArgumentParser

private let settings = Settings.catalogue

/// `--database-url` (`MAILFLEET_DATABASE_URL`): where Postgres is.
public struct DatabaseOptions: ParsableArguments {
    @Option(name: settings.databaseURL.name, help: settings.databaseURL.help) var databaseURLFlag: String?

    /// No flags given.
    public init() {}

    /// The Postgres URL.
    public var databaseURL: String { get throws { try settings.databaseURL.value(flag: databaseURLFlag) } }

    /// Refuses a bad value before the command runs.
    public func validate() throws { try validateSettings { _ = try databaseURL } }
}
