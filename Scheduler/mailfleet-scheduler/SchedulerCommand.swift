import ArgumentParser
import Logging
import MailfleetCore
import MailfleetObservability
import MailfleetPostgres
import MailfleetRedis
import MailfleetScheduler
import MailfleetStore
import ServiceLifecycle

/// `mailfleet-scheduler`: promotes due work, reclaims dead workers' leases, reconciles.
@main
struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mailfleet-scheduler", abstract: "Moves due and stalled work onto the ready queues; one leader among replicas.")

    @Option(help: "Ops listen address (MAILFLEET_SCHEDULER_HOST).") var host = Env.string("MAILFLEET_SCHEDULER_HOST", "127.0.0.1")
    @Option(help: "Ops listen port (MAILFLEET_SCHEDULER_PORT).") var port = Env.int("MAILFLEET_SCHEDULER_PORT", 8083)
    @Option(help: "Postgres URL (MAILFLEET_DATABASE_URL).") var databaseURL = Env.string("MAILFLEET_DATABASE_URL", Env.Defaults.databaseURL)
    @Option(help: "Redis URL (MAILFLEET_REDIS_URL).") var redisURL = Env.string("MAILFLEET_REDIS_URL", Env.Defaults.redisURL)
    @Option(help: "Queue partitions (MAILFLEET_PARTITIONS).") var partitions = Env.int("MAILFLEET_PARTITIONS", Env.Defaults.partitions)
    @Option(help: "Seconds without progress before a queued message is re-enqueued (MAILFLEET_RECONCILE_AFTER_SECONDS).")
    var reconcileAfterSeconds = Double(Env.string("MAILFLEET_RECONCILE_AFTER_SECONDS", "300")) ?? 300
    @Option(help: "Seconds between reconciliation passes (MAILFLEET_RECONCILE_EVERY_SECONDS).")
    var reconcileEverySeconds = Double(Env.string("MAILFLEET_RECONCILE_EVERY_SECONDS", "10")) ?? 10
    @Option(help: "Log level (MAILFLEET_LOG_LEVEL).") var logLevel = Env.string("MAILFLEET_LOG_LEVEL", "info")

    func run() async throws {
        Telemetry.bootstrap(service: "mailfleet-scheduler", level: Logger.Level(rawValue: logLevel) ?? .info)
        let logger = Logger(label: "mailfleet.scheduler")
        var config = SchedulerConfiguration()
        config.databaseURL = databaseURL
        config.redisURL = redisURL
        config.partitions = partitions
        config.reconcileAfterSeconds = reconcileAfterSeconds
        config.reconcileEvery = .milliseconds(Int(reconcileEverySeconds * 1000))
        let pool = PostgresPool(url: databaseURL, size: 2, name: "scheduler-pg")
        let redis = RedisClient(url: redisURL, connections: 2, name: "scheduler-redis")
        let scheduler = SchedulerService(
            configuration: config, redis: redis, queue: MessageQueue(redis: redis, partitioning: Partitioning(count: partitions)),
            store: MessageStore(pool: pool), logger: logger)
        let ops = OpsRoutes.server(
            host: host, port: port,
            checks: [
                ReadinessCheck(name: "postgres") { _ = try await pool.query("SELECT 1") },
                ReadinessCheck(name: "redis") { _ = try await redis.command("PING") },
            ], logger: logger)
        let group = ServiceGroup(configuration: .init(services: [ops, scheduler], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await pool.shutdown()
        redis.shutdown()
    }
}
