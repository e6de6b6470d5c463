import ArgumentParser
import Logging
import MailfleetObservability
import MailfleetPostgres
import MailfleetTracker
import ServiceLifecycle

/// `mailfleet-tracker`: opens, clicks and (later) provider webhooks.
@main
struct TrackerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mailfleet-tracker", abstract: "Serves the open pixel and click redirects and records tracking events.")

    @Option(help: "Listen address (MAILFLEET_TRACKER_HOST).") var host = Env.string("MAILFLEET_TRACKER_HOST", "127.0.0.1")
    @Option(help: "Listen port (MAILFLEET_TRACKER_PORT).") var port = Env.int("MAILFLEET_TRACKER_PORT", 8081)
    @Option(help: "Postgres URL (MAILFLEET_DATABASE_URL).") var databaseURL = Env.string("MAILFLEET_DATABASE_URL", Env.Defaults.databaseURL)
    @Option(help: "Tracking token secret (MAILFLEET_TRACKING_SECRET).") var trackingSecret = Env.string("MAILFLEET_TRACKING_SECRET", Env.Defaults.trackingSecret)
    @Option(help: "Log level (MAILFLEET_LOG_LEVEL).") var logLevel = Env.string("MAILFLEET_LOG_LEVEL", "info")

    func run() async throws {
        Telemetry.bootstrap(service: "mailfleet-tracker", level: Logger.Level(rawValue: logLevel) ?? .info)
        let logger = Logger(label: "mailfleet.tracker")
        var config = TrackerConfiguration()
        config.host = host
        config.port = port
        config.databaseURL = databaseURL
        config.trackingSecret = trackingSecret
        let pool = PostgresPool(url: databaseURL, size: 2, name: "tracker-pg")
        let group = ServiceGroup(configuration: .init(
            services: TrackerServer.services(configuration: config, pool: pool, logger: logger),
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info("mailfleet-tracker listening", metadata: ["host": "\(host)", "port": "\(port)"])
        try await group.run()
        await pool.shutdown()
    }
}
