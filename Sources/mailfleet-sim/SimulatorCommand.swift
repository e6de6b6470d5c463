import ArgumentParser
import Logging
import MailfleetObservability
import MailfleetSimulator
import ServiceLifecycle

/// `mailfleet-sim`: a provider simulator with fault injection.
@main
struct SimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mailfleet-sim", abstract: "Simulates provider HTTP APIs (SendGrid v3 mail/send) with fault injection.")

    @Option(help: "Listen address (MAILFLEET_SIM_HOST).") var host = Env.string("MAILFLEET_SIM_HOST", "127.0.0.1")
    @Option(help: "Listen port (MAILFLEET_SIM_PORT).") var port = Env.int("MAILFLEET_SIM_PORT", 8082)
    @Option(help: "Log level (MAILFLEET_LOG_LEVEL).") var logLevel = Env.string("MAILFLEET_LOG_LEVEL", "info")

    func run() async throws {
        Telemetry.bootstrap(service: "mailfleet-sim", level: Logger.Level(rawValue: logLevel) ?? .info)
        let logger = Logger(label: "mailfleet.sim")
        let group = ServiceGroup(configuration: .init(
            services: SimulatorServer.services(host: host, port: port, logger: logger),
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info("mailfleet-sim listening", metadata: ["host": "\(host)", "port": "\(port)"])
        try await group.run()
    }
}
