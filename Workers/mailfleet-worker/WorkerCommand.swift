import ArgumentParser
import Logging
import MailfleetHTTPClient
import MailfleetObservability
import MailfleetPostgres
import MailfleetProviders
import MailfleetRedis
import MailfleetRuntime
import MailfleetStore
import MailfleetCore
import MailfleetWorker
import ServiceLifecycle

/// `mailfleet-worker`: the sender. Run as many replicas as you like.
@main
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mailfleet-worker", abstract: "Fetches due messages, sends them through provider APIs and records the outcome.")

    @Option(help: "Ops listen address for /metrics, /healthz, /readyz (MAILFLEET_WORKER_HOST).") var host = Env.string("MAILFLEET_WORKER_HOST", "127.0.0.1")
    @Option(help: "Ops listen port (MAILFLEET_WORKER_PORT).") var port = Env.int("MAILFLEET_WORKER_PORT", 8090)
    @Option(help: "Postgres URL (MAILFLEET_DATABASE_URL).") var databaseURL = Env.string("MAILFLEET_DATABASE_URL", Env.Defaults.databaseURL)
    @Option(help: "Redis URL (MAILFLEET_REDIS_URL).") var redisURL = Env.string("MAILFLEET_REDIS_URL", Env.Defaults.redisURL)
    @Option(help: "Queue partitions (MAILFLEET_PARTITIONS).") var partitions = Env.int("MAILFLEET_PARTITIONS", Env.Defaults.partitions)
    @Option(help: "Concurrent fetch-and-send lanes (MAILFLEET_WORKER_LANES).") var lanes = Env.int("MAILFLEET_WORKER_LANES", 4)
    @Option(help: "Messages per fetch (MAILFLEET_WORKER_BATCH).") var batchSize = Env.int("MAILFLEET_WORKER_BATCH", 500)
    @Option(help: "Outbox folder (MAILFLEET_OUTBOX_DIR).") var outboxDir = Env.string("MAILFLEET_OUTBOX_DIR", ".mailfleet/outbox")
    @Option(help: "Tracker public URL (MAILFLEET_TRACKER_URL).") var trackerURL = Env.string("MAILFLEET_TRACKER_URL", "http://127.0.0.1:8081")
    @Option(help: "Tracking token secret (MAILFLEET_TRACKING_SECRET).") var trackingSecret = Env.string("MAILFLEET_TRACKING_SECRET", Env.Defaults.trackingSecret)
    @Option(help: "Base retry delay in seconds (MAILFLEET_RETRY_BASE_SECONDS).") var retryBaseSeconds = Double(Env.string("MAILFLEET_RETRY_BASE_SECONDS", "10")) ?? 10
    @Option(help: "Lease in seconds (MAILFLEET_LEASE_SECONDS).") var leaseSeconds = Double(Env.string("MAILFLEET_LEASE_SECONDS", "120")) ?? 120
    @Option(help: "Log level (MAILFLEET_LOG_LEVEL).") var logLevel = Env.string("MAILFLEET_LOG_LEVEL", "info")

    func run() async throws {
        Telemetry.bootstrap(service: "mailfleet-worker", level: Logger.Level(rawValue: logLevel) ?? .info)
        let logger = Logger(label: "mailfleet.worker")
        var config = WorkerConfiguration()
        config.databaseURL = databaseURL
        config.redisURL = redisURL
        config.partitions = partitions
        config.lanes = lanes
        config.batchSize = batchSize
        config.outboxDirectory = outboxDir
        config.trackerBaseURL = trackerURL
        config.trackingSecret = trackingSecret
        config.retry = RetryPolicy(baseDelay: retryBaseSeconds)
        config.leaseSeconds = leaseSeconds

        let pool = PostgresPool(url: databaseURL, size: lanes + 1, name: "worker-pg")
        let redis = RedisClient(url: redisURL, connections: 2, name: "worker-redis")
        let http = HTTPClient(name: "worker-http")
        let outboxThread = DedicatedThread(name: "worker-outbox")
        let worker = SenderWorker(
            configuration: config,
            queue: MessageQueue(redis: redis, partitioning: Partitioning(count: partitions)),
            store: MessageStore(pool: pool), tenants: TenantStore(pool: pool),
            providers: ProviderRegistry(httpClient: http, outboxDirectory: outboxDir, outboxThread: outboxThread, callTimeout: config.callTimeout),
            logger: logger)
        let ops = OpsRoutes.server(
            host: host, port: port,
            checks: [
                ReadinessCheck(name: "postgres") { _ = try await pool.query("SELECT 1") },
                ReadinessCheck(name: "redis") { _ = try await redis.command("PING") },
            ], logger: logger)
        // Services stop in reverse order: the worker drains first, the ops server last.
        let group = ServiceGroup(configuration: .init(services: [ops, worker], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        http.shutdown()
        outboxThread.shutdown()
        await pool.shutdown()
        redis.shutdown()
    }
}
