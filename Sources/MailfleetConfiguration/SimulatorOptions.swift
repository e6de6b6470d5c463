import ArgumentParser

private let settings = Settings.catalogue

/// Everything `mailfleet-sim` reads.
public struct SimulatorOptions: ParsableArguments {
    @Option(name: settings.simulatorHost.name, help: settings.simulatorHost.help) var hostFlag: String?
    @Option(name: settings.simulatorPort.name, help: settings.simulatorPort.help) var portFlag: String?
    @OptionGroup public var logging: LoggingOptions

    /// No flags given.
    public init() {}

    /// Listen address.
    public var host: String { get throws { try settings.simulatorHost.value(flag: hostFlag) } }
    /// Listen port.
    public var port: Int { get throws { try settings.simulatorPort.value(flag: portFlag) } }

    /// Refuses a bad value before the command runs.
    public func validate() throws { try validateSettings { _ = (try host, try port) } }
}
