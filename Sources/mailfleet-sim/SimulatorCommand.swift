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
        // The setting accepts exactly SimulatorRecording's names (a unit test keeps them equal).
        guard let recording = SimulatorRecording(rawValue: try options.record) else { throw ValidationError("unknown recording \(try options.record)") }
        try await Bootstrap.run(service: "mailfleet-sim", logLevel: options.logging.logLevel) { _, logger in
            logger.info("mailfleet-sim listening", metadata: ["host": "\(host)", "port": "\(port)", "record": "\(recording.rawValue)"])
            return SimulatorServer.services(host: host, port: port, recording: recording, logger: logger)
        }
    }
}
