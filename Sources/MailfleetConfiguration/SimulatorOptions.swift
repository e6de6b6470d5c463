import ArgumentParser

private let settings = Settings.catalogue

/// Everything `mailfleet-sim` reads.
public struct SimulatorOptions: ParsableArguments {
    @Option(name: settings.simulatorHost.name, help: settings.simulatorHost.help) var hostFlag: String?
    @Option(name: settings.simulatorPort.name, help: settings.simulatorPort.help) var portFlag: String?
    @Option(name: settings.simulatorRecord.name, help: settings.simulatorRecord.help) var recordFlag: String?
    @OptionGroup public var logging: LoggingOptions

    /// No flags given.
    public init() {}

    /// Listen address.
    public var host: String { get throws { try settings.simulatorHost.value(flag: hostFlag) } }
    /// Listen port.
    public var port: Int { get throws { try settings.simulatorPort.value(flag: portFlag) } }
    /// What is kept per message: counters, arrivals or all.
    public var record: String { get throws { try settings.simulatorRecord.value(flag: recordFlag) } }

    /// Refuses a bad value before the command runs.
    public func validate() throws { try validateSettings { _ = (try host, try port, try record) } }
}
