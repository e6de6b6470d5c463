import Foundation
import Hummingbird
import Logging
import MailfleetCore
import MailfleetObservability
import MailfleetPostgres
import MailfleetStore
import ServiceLifecycle

/// Configuration of `mailfleet-tracker`.
public struct TrackerConfiguration: Sendable {
    /// Listen address. Default 127.0.0.1.
    public var host = "127.0.0.1"
    /// Listen port. Default 8081.
    public var port = 8081
    /// Postgres URL.
    public var databaseURL = Env.Defaults.databaseURL
    /// Secret shared with the workers that sign tracking links.
    public var trackingSecret = Env.Defaults.trackingSecret
    /// The defaults.
    public init() {}
}

/// Assembles the tracker.
public enum TrackerServer {
    /// The services of one tracker process (event buffer first, so it flushes after the server stops).
    public static func services(configuration: TrackerConfiguration, pool: PostgresPool, logger: Logger) -> [any Service] {
        let buffer = EventBuffer(store: EventStore(pool: pool), logger: logger)
        let controller = TrackingController(signer: TrackingSigner(secret: configuration.trackingSecret), events: buffer, logger: logger)
        let router = Router()
        router.add(middleware: RequestMetricsMiddleware(service: "tracker"))
        controller.addRoutes(to: router)
        OpsRoutes.add(to: router, checks: [ReadinessCheck(name: "postgres") { _ = try await pool.query("SELECT 1") }])
        let app = Application(
            router: router, configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "mailfleet-tracker"),
            logger: logger)
        return [buffer, app]
    }
}
