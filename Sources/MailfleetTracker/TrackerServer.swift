import Foundation
import Hummingbird
import Logging
import MailfleetCore
import MailfleetObservability
import MailfleetProviderFormats
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
    /// How far a webhook's signing time may be from now (SNS's is never less than an hour).
    public var webhookFreshness: WebhookFreshness
    /// Tells machines' opens and clicks from people's.
    public var machines: MachineTraffic

    /// Creates a configuration.
    public init(
        host: String, port: Int, trackingSecret: String, webhookToleranceSeconds: TimeInterval = 600, machineOpenSeconds: TimeInterval = 2
    ) {
        self.host = host
        self.port = port
        self.trackingSecret = trackingSecret
        self.webhookFreshness = WebhookFreshness(tolerance: webhookToleranceSeconds)
        self.machines = MachineTraffic(window: machineOpenSeconds)
    }
}

/// What the tracker's webhooks need besides the event store: the accounts, the Mailgun token
/// memory and the way to SNS.
public struct WebhookDependencies: Sendable {
    /// Where accounts and their webhook secrets are read.
    public var tenants: TenantStore
    /// Where verified events are written.
    public var events: WebhookEventStore
    /// The Mailgun token memory.
    public var replay: WebhookReplayGuard
    /// SNS certificates and subscription confirmations.
    public var sns: SNSEndpoint

    /// Creates them.
    public init(tenants: TenantStore, events: WebhookEventStore, replay: WebhookReplayGuard, sns: SNSEndpoint) {
        self.tenants = tenants
        self.events = events
        self.replay = replay
        self.sns = sns
    }
}

/// Assembles the tracker.
public enum TrackerServer {
    /// The services of one tracker process (event buffer first, so it flushes after the server
    /// stops), with the webhook dispatcher when this replica delivers webhooks to tenants.
    public static func services(
        configuration: TrackerConfiguration, events: EventStore, suppressions: SuppressionStore, webhooks: WebhookDependencies,
        checks: [ReadinessCheck], logger: Logger, dispatcher: WebhookDispatcher? = nil
    ) -> [any Service] {
        let buffer = EventBuffer(store: events, webhooks: webhooks.events, logger: logger)
        let signer = TrackingSigner(secret: configuration.trackingSecret)
        let controller = TrackingController(signer: signer, events: buffer, machines: configuration.machines, logger: logger)
        let webhookController = WebhookController(
            tenants: webhooks.tenants, replay: webhooks.replay, sns: webhooks.sns, events: buffer, freshness: configuration.webhookFreshness, logger: logger)
        let router = Router()
        router.add(middleware: RequestMetricsMiddleware(service: "tracker"))
        controller.addRoutes(to: router)
        UnsubscribeController(signer: signer, suppressions: suppressions, logger: logger).addRoutes(to: router)
        ConfirmationController(
            signer: ListConfirmationSigner(secret: configuration.trackingSecret), contacts: ContactStore(sharingPoolOf: suppressions), logger: logger
        ).addRoutes(to: router)
        webhookController.addRoutes(to: router)
        OpsRoutes.add(to: router, checks: checks)
        let app = Application(
            router: router, configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "mailfleet-tracker"),
            logger: logger)
        var services: [any Service] = [buffer]
        if let dispatcher {
            // Gauges every 15 s; old attempts and finished deliveries pruned about every 10 minutes
            // per replica (the deletes are idempotent, so replicas may overlap).
            services.append(dispatcher)
            services.append(PeriodicService(every: .seconds(15)) { await dispatcher.housekeep(prune: Int.random(in: 0..<40) == 0) })
        }
        return services + [app]
    }
}
