import Foundation
import Hummingbird
import Logging
import MailfleetConfiguration
import MailfleetCore
import MailfleetObservability
import MailfleetStore
import ServiceLifecycle

/// Configuration of `mailfleet-api`; the defaults are the settings catalogue's.
public struct APIConfiguration: Sendable {
    /// Listen address.
    public var host = Settings.catalogue.apiHost.defaultValue
    /// Listen port.
    public var port = Settings.catalogue.apiPort.defaultValue
    /// Queue partitions (must match across api, scheduler and workers).
    public var partitions = Settings.catalogue.partitions.defaultValue
    /// Postgres connections.
    public var databasePoolSize = Settings.catalogue.databasePoolSize.defaultValue
    /// Size limits.
    public var limits = APILimits()
    /// API requests per minute per tenant, unless the tenant has its own.
    public var rateLimitPerMinute = Settings.catalogue.apiRateLimit.defaultValue
    /// The tracker's public URL, under which each provider account's webhook URL is shown.
    public var trackerURL = Settings.catalogue.trackerURL.defaultValue
    /// The operator credential of `/status`; nil turns the page off (its routes answer 404).
    public var statusToken: String?
    /// Where tenants' webhook endpoints may point (checked when one is registered).
    public var egress = EgressPolicy()
    /// The tracking secret, which signs double opt-in confirmation links (`confirm_url`);
    /// nil leaves pending members without one.
    public var trackingSecret: String?
    /// The defaults.
    public init() {}
}

/// The stores and clients the API works with; made once per process.
public struct APIStores: Sendable {
    /// Messages (accept, read back).
    public var messages: MessageStore
    /// The Redis queue accepted messages are put on.
    public var queue: MessageQueue
    /// Templates.
    public var templates: TemplateStore
    /// Suppression lists.
    public var suppressions: SuppressionStore
    /// Tenants and their API keys.
    public var tenants: TenantStore
    /// The per-tenant request limiter.
    public var rateLimiter: RateLimiter
    /// The fleet's circuit breakers, read for `GET /v1/providers`.
    public var breakers: CircuitBreakerStore
    /// Tenants' webhook endpoints.
    public var webhooks: WebhookStore
    /// Campaigns.
    public var campaigns: CampaignStore
    /// Tenants' segments.
    public var segments: SegmentStore

    /// Creates the set from its parts.
    public init(
        messages: MessageStore, queue: MessageQueue, templates: TemplateStore, suppressions: SuppressionStore, tenants: TenantStore,
        rateLimiter: RateLimiter, breakers: CircuitBreakerStore, webhooks: WebhookStore? = nil, campaigns: CampaignStore? = nil, segments: SegmentStore? = nil
    ) {
        self.messages = messages
        self.queue = queue
        self.templates = templates
        self.suppressions = suppressions
        self.tenants = tenants
        self.rateLimiter = rateLimiter
        self.breakers = breakers
        // The same Postgres as the messages', unless given.
        self.webhooks = webhooks ?? WebhookStore(sharingPoolOf: messages)
        self.campaigns = campaigns ?? CampaignStore(sharingPoolOf: messages)
        self.segments = segments ?? SegmentStore(sharingPoolOf: messages)
    }
}

/// Assembles the API: routes, group commit, and the services to run.
public enum APIServer {
    /// The services of one API process (the HTTP server last, so it stops first).
    public static func services(configuration: APIConfiguration, stores: APIStores, readiness: [ReadinessCheck], logger: Logger) -> [any Service] {
        let authenticator = Authenticator(tenants: stores.tenants)
        let status = configuration.statusToken.map { _ in StatusBoard(stores: stores, logger: logger) }
        let router = router(
            configuration: configuration, stores: stores, authenticator: authenticator, readiness: readiness, logger: logger, status: status)
        let app = Application(
            router: router, configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "mailfleet-api"),
            logger: logger)
        let quotas = QuotaGauges(tenants: stores.tenants, logger: logger)
        var services: [any Service] = [
            PeriodicService(every: .seconds(30)) { await authenticator.flushLastUsed() },
            PeriodicService(every: QuotaGauges.interval) { await quotas.sample() },
        ]
        if let status {
            services.append(PeriodicService(every: StatusBoard.sampleInterval) { await status.sample() })
        }
        return services + [app]
    }

    /// Every route of the API with its middleware (also used by the router and OpenAPI tests).
    /// With `configuration.statusToken` set, the status page reads `status` (a new board, never
    /// sampled, when nil).
    public static func router(
        configuration: APIConfiguration, stores: APIStores, authenticator: Authenticator, readiness: [ReadinessCheck], logger: Logger,
        status: StatusBoard? = nil
    ) -> Router<APIRequestContext> {
        let pipeline = AcceptPipeline(store: stores.messages, queue: stores.queue, logger: logger)
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: RequestMetricsMiddleware(service: "api"))
        let v1 = router.group("v1")
            .add(middleware: AuthenticationMiddleware(authenticator: authenticator))
            .add(middleware: RateLimitMiddleware(limiter: stores.rateLimiter, defaultPerMinute: configuration.rateLimitPerMinute))
        MessagesController(
            pipeline: pipeline, store: stores.messages, queue: stores.queue, templates: stores.templates, suppressions: SuppressionLookup(store: stores.suppressions),
            limits: configuration.limits
        ).addRoutes(to: v1)
        TemplatesController(store: stores.templates, limits: configuration.limits).addRoutes(to: v1)
        CampaignsController(store: stores.campaigns, templates: stores.templates, queue: stores.queue, limits: configuration.limits).addRoutes(to: v1)
        SequencesController(store: SequenceStore(sharingPoolOf: stores.messages), limits: configuration.limits).addRoutes(to: v1)
        SuppressionsController(store: stores.suppressions, limits: configuration.limits).addRoutes(to: v1)
        ProvidersController(tenants: stores.tenants, breakers: stores.breakers, trackerURL: configuration.trackerURL, logger: logger).addRoutes(to: v1)
        EventsController(store: stores.messages).addRoutes(to: v1)
        ContactsController(store: ContactStore(sharingPoolOf: stores.messages), limits: configuration.limits).addRoutes(to: v1)
        ContactListsController(
            lists: ContactListStore(sharingPoolOf: stores.messages), contacts: ContactStore(sharingPoolOf: stores.messages),
            imports: ContactImportStore(sharingPoolOf: stores.messages), limits: configuration.limits,
            confirmation: configuration.trackingSecret.map { secret in
                let signer = ListConfirmationSigner(secret: secret)
                let trackerURL = configuration.trackerURL
                return { tenant, list, contact in signer.url(trackerURL: trackerURL, ListConfirmation(tenantID: tenant, listID: list, contactID: contact)) }
            }
        ).addRoutes(to: v1)
        WebhookEndpointsController(store: stores.webhooks, limits: configuration.limits, egress: configuration.egress).addRoutes(to: v1)
        SegmentsController(store: stores.segments, limits: configuration.limits).addRoutes(to: v1)
        HealthController(tenants: stores.tenants, limits: configuration.limits).addRoutes(to: v1)
        QuotaController(tenants: stores.tenants).addRoutes(to: v1)
        FairShareController(tenants: stores.tenants).addRoutes(to: v1)
        LimitsController(tenants: stores.tenants, counter: WarmupCounter(sharing: stores.queue)).addRoutes(to: v1)
        OpenAPIRoute.add(to: router)
        OpsRoutes.add(to: router, checks: readiness)
        if let token = configuration.statusToken {
            StatusController(access: StatusAccess(token: token), board: status ?? StatusBoard(stores: stores, logger: logger)).addRoutes(to: router)
        }
        // Last, so it wraps only the not-found answer (see the type).
        router.add(middleware: MethodNotAllowedMiddleware(routes: router.routes))
        return router
    }
}
