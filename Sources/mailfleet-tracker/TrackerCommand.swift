import ArgumentParser
import MailfleetBootstrap
import MailfleetConfiguration
import MailfleetStore
import MailfleetTracker

/// `mailfleet-tracker`: opens, clicks, one-click unsubscribes and (later) provider webhooks.
@main
struct TrackerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mailfleet-tracker", abstract: "Serves the open pixel, click redirects and one-click unsubscribes and records tracking events.")

    @OptionGroup var options: TrackerOptions

    func run() async throws {
        let config = TrackerConfiguration(host: try options.host, port: try options.port, trackingSecret: try options.trackingSecret)
        try await Bootstrap.run(service: "mailfleet-tracker", logLevel: options.logging.logLevel) { clients, logger in
            let pool = clients.postgres(url: try options.database.databaseURL, size: 2, name: "tracker-pg")
            logger.info("mailfleet-tracker listening", metadata: ["host": "\(config.host)", "port": "\(config.port)"])
            return TrackerServer.services(
                configuration: config, events: EventStore(pool: pool), suppressions: SuppressionStore(pool: pool), checks: clients.readinessChecks,
                logger: logger)
        }
    }
}
