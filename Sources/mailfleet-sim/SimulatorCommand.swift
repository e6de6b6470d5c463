import ArgumentParser
import MailfleetBootstrap
import MailfleetConfiguration
import MailfleetSimulator

/// `mailfleet-sim`: a provider simulator with fault injection.
@main
struct SimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mailfleet-sim", abstract: "Simulates provider HTTP APIs (SendGrid v3 mail/send) with fault injection.")

    @OptionGroup var options: SimulatorOptions

    func run() async throws {
        let (host, port) = (try options.host, try options.port)
        try await Bootstrap.run(service: "mailfleet-sim", logLevel: options.logging.logLevel) { _, logger in
            logger.info("mailfleet-sim listening", metadata: ["host": "\(host)", "port": "\(port)"])
            return SimulatorServer.services(host: host, port: port, logger: logger)
        }
    }
}
