import ArgumentParser
import Logging
import MailfleetAPI
import MailfleetObservability
import MailfleetPostgres
import MailfleetRedis
import ServiceLifecycle

/// `mailfleet-api`: the HTTP ingester.
@main
struct APICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mailfleet-api", abstract: "Accepts messages over HTTP, commits them to Postgres and enqueues them in Redis.")

    @Option(help: "Listen address (MAILFLEET_API_HOST).") var host = Env.string("MAILFLEET_API_HOST", "127.0.0.1")
    @Option(help: "Listen port (MAILFLEET_API_PORT).") var port = Env.int("MAILFLEET_API_PORT", 8080)
    @Option(help: "Postgres URL (MAILFLEET_DATABASE_URL).") var databaseURL = Env.string("MAILFLEET_DATABASE_URL", Env.Defaults.databaseURL)
    @Option(help: "Redis URL (MAILFLEET_REDIS_URL).") var redisURL = Env.string("MAILFLEET_REDIS_URL", Env.Defaults.redisURL)
    @Option(help: "Queue partitions (MAILFLEET_PARTITIONS).") var partitions = Env.int("MAILFLEET_PARTITIONS", Env.Defaults.partitions)
    @Option(help: "Postgres connections (MAILFLEET_DB_POOL_SIZE).") var dbPoolSize = Env.int("MAILFLEET_DB_POOL_SIZE", 8)
    @Option(help: "API requests per minute per tenant without its own limit (MAILFLEET_API_RATE_LIMIT).")
    var rateLimit = Env.int("MAILFLEET_API_RATE_LIMIT", 6000)
    @Option(help: "Log level (MAILFLEET_LOG_LEVEL).") var logLevel = Env.string("MAILFLEET_LOG_LEVEL", "info")

    func run() async throws {
        Telemetry.bootstrap(service: "mailfleet-api", level: Logger.Level(rawValue: logLevel) ?? .info)
        let logger = Logger(label: "mailfleet.api")
        var config = APIConfiguration()
        config.host = host
        config.port = port
        config.databaseURL = databaseURL
        config.redisURL = redisURL
        config.partitions = partitions
        config.databasePoolSize = dbPoolSize
        config.rateLimitPerMinute = max(1, rateLimit)
        let pool = PostgresPool(url: databaseURL, size: dbPoolSize, name: "api-pg")
        let redis = RedisClient(url: redisURL, connections: 4, name: "api-redis")
        let group = ServiceGroup(configuration: .init(
            services: APIServer.services(configuration: config, pool: pool, redis: redis, logger: logger),
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info("mailfleet-api listening", metadata: ["host": "\(host)", "port": "\(port)"])
        try await group.run()
        await pool.shutdown()
        redis.shutdown()
    }
}
