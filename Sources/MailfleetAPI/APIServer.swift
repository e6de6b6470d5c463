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
    /// The defaults.
    public init() {}
}

/// Assembles the API: routes, group commit, and the services to run.
public enum APIServer {
    /// The services of one API process (the HTTP server last, so it stops first).
    public static func services(configuration: APIConfiguration, pool: PostgresPool, redis: RedisClient, logger: Logger) -> [any Service] {
        let store = MessageStore(pool: pool)
        let queue = MessageQueue(redis: redis, partitioning: Partitioning(count: configuration.partitions))
        let authenticator = Authenticator(tenants: TenantStore(pool: pool))
        let pipeline = AcceptPipeline(store: store, queue: queue, logger: logger)
        let controller = MessagesController(authenticator: authenticator, pipeline: pipeline, store: store, limits: configuration.limits)

        let router = Router()
        router.add(middleware: RequestMetricsMiddleware(service: "api"))
        controller.addRoutes(to: router)
        OpsRoutes.add(to: router, checks: readinessChecks(pool: pool, redis: redis))
        let app = Application(
            router: router, configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "mailfleet-api"),
            logger: logger)
        return [PeriodicService(every: .seconds(30)) { await authenticator.flushLastUsed() }, app]
    }

    /// `/readyz` checks for Postgres and Redis.
    public static func readinessChecks(pool: PostgresPool, redis: RedisClient) -> [ReadinessCheck] {
        [
            ReadinessCheck(name: "postgres") { _ = try await pool.query("SELECT 1") },
            ReadinessCheck(name: "redis") { _ = try await redis.command("PING") },
        ]
    }
}
