import Foundation
import Hummingbird
import Logging
import MailfleetCore
import MailfleetObservability
import MailfleetPostgres
import MailfleetRedis
import MailfleetStore
import ServiceLifecycle

/// Configuration of `mailfleet-api`.
public struct APIConfiguration: Sendable {
    /// Listen address. Default 127.0.0.1.
    public var host = "127.0.0.1"
    /// Listen port. Default 8080.
    public var port = 8080
    /// Postgres URL.
    public var databaseURL = Env.Defaults.databaseURL
    /// Redis URL.
    public var redisURL = Env.Defaults.redisURL
    /// Queue partitions.
    public var partitions = Env.Defaults.partitions
    /// Postgres connections. Default 8.
    public var databasePoolSize = 8
    /// Size limits.
    public var limits = APILimits()
    /// API requests per minute per tenant, unless the tenant has its own. Default 6,000.
    public var rateLimitPerMinute = 6000
    /// The defaults.
    public init() {}
}

/// Assembles the API: routes, group commit, and the services to run.
public enum APIServer {
    /// The services of one API process (the HTTP server last, so it stops first).
    public static func services(configuration: APIConfiguration, pool: PostgresPool, redis: RedisClient, logger: Logger) -> [any Service] {
        let authenticator = Authenticator(tenants: TenantStore(pool: pool))
        let router = router(configuration: configuration, pool: pool, redis: redis, authenticator: authenticator, logger: logger)
        let app = Application(
            router: router, configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "mailfleet-api"),
            logger: logger)
        return [PeriodicService(every: .seconds(30)) { await authenticator.flushLastUsed() }, app]
    }

    /// Every route of the API with its middleware (also used by the OpenAPI test).
    public static func router(
        configuration: APIConfiguration, pool: PostgresPool, redis: RedisClient, authenticator: Authenticator, logger: Logger
    ) -> Router<BasicRequestContext> {
        let store = MessageStore(pool: pool)
        let queue = MessageQueue(redis: redis, partitioning: Partitioning(count: configuration.partitions))
        let pipeline = AcceptPipeline(store: store, queue: queue, logger: logger)
        let templates = TemplateStore(pool: pool)
        let suppressions = SuppressionStore(pool: pool)
        let controller = MessagesController(
            authenticator: authenticator, pipeline: pipeline, store: store, templates: templates,
            suppressions: SuppressionLookup(store: suppressions),
            limits: configuration.limits)

        let router = Router()
        router.add(middleware: RequestMetricsMiddleware(service: "api"))
        router.add(middleware: RateLimitMiddleware(
            authenticator: authenticator, limiter: RateLimiter(redis: redis), defaultPerMinute: configuration.rateLimitPerMinute, logger: logger))
        controller.addRoutes(to: router)
        TemplatesController(authenticator: authenticator, store: templates).addRoutes(to: router)
        SuppressionsController(authenticator: authenticator, store: suppressions).addRoutes(to: router)
        OpenAPIRoute.add(to: router)
        OpsRoutes.add(to: router, checks: readinessChecks(pool: pool, redis: redis))
        return router
    }

    /// `/readyz` checks for Postgres and Redis.
    public static func readinessChecks(pool: PostgresPool, redis: RedisClient) -> [ReadinessCheck] {
        [
            ReadinessCheck(name: "postgres") { _ = try await pool.query("SELECT 1") },
            ReadinessCheck(name: "redis") { _ = try await redis.command("PING") },
        ]
    }
}
