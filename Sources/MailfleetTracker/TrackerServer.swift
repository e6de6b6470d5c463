import Foundation
import Hummingbird
import Logging
import MailfleetCore
import MailfleetObservability
import MailfleetStore
import ServiceLifecycle

/// Configuration of `mailfleet-tracker`, filled from its settings (`TrackerOptions`).
public struct TrackerConfiguration: Sendable {
    /// Listen address.
    public var host: String
    /// Listen port.
    public var port: Int
    /// Secret shared with the workers that sign tracking links.
    public var trackingSecret: String

    /// Creates a configuration.
    public init(host: String, port: Int, trackingSecret: String) {
        self.host = host
        self.port = port
        self.trackingSecret = trackingSecret
    }
}

/// Assembles the tracker.
public enum TrackerServer {
    /// The services of one tracker process (event buffer first, so it flushes after the server stops).
    public static func services(
        configuration: TrackerConfiguration, events: EventStore, suppressions: SuppressionStore, checks: [ReadinessCheck], logger: Logger
    ) -> [any Service] {
        let buffer = EventBuffer(store: events, logger: logger)
        let signer = TrackingSigner(secret: configuration.trackingSecret)
        let controller = TrackingController(signer: signer, events: buffer, logger: logger)
        let router = Router()
        router.add(middleware: RequestMetricsMiddleware(service: "tracker"))
        controller.addRoutes(to: router)
        UnsubscribeController(signer: signer, suppressions: suppressions, logger: logger).addRoutes(to: router)
        OpsRoutes.add(to: router, checks: checks)
        let app = Application(
            router: router, configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "mailfleet-tracker"),
            logger: logger)
        return [buffer, app]
    }
}
