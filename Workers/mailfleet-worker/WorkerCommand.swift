import ArgumentParser
import MailfleetBootstrap
import MailfleetConfiguration
import MailfleetCore
import MailfleetObservability
import MailfleetProviders
import MailfleetStore
import MailfleetWorker

/// `mailfleet-worker`: the sender. Run as many replicas as you like.
@main
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mailfleet-worker", abstract: "Fetches due messages, sends them through provider APIs and records the outcome.")

    @OptionGroup var options: WorkerOptions

    func run() async throws {
        let config = try WorkerConfiguration(options)
        try await Bootstrap.run(service: "mailfleet-worker", logLevel: options.logging.logLevel) { clients, logger in
            let pool = clients.postgres(url: try options.database.databaseURL, size: config.lanes + config.transactionalLanes + 1, name: "worker-pg")
            let redis = clients.redis(url: try options.queue.redisURL, connections: 2, name: "worker-redis")
            let providers = ProviderRegistry(
                httpClient: clients.http(name: "worker-http"), outboxDirectory: config.outboxDirectory,
                outboxThread: clients.thread(name: "worker-outbox"), callTimeout: config.callTimeout)
            let queue = MessageQueue(redis: redis, partitioning: Partitioning(count: config.partitions), fairness: config.fairness)
            let heartbeat = Heartbeat(store: WorkerHeartbeatStore(beside: queue), logger: logger)
            let worker = SenderWorker(
                configuration: config, queue: queue, store: MessageStore(pool: pool), tenants: TenantStore(pool: pool), suppressions: SuppressionStore(pool: pool), providers: providers,
                breakers: CircuitBreakerStore(redis: redis), paces: AccountPacingStore(redis: redis), heartbeat: heartbeat, logger: logger)
            let ops = OpsRoutes.server(host: try options.host, port: try options.port, checks: clients.readinessChecks, logger: logger)
            // Services stop in reverse order: the worker drains first, then its heartbeat is
            // removed, then the ops server stops, the clients last.
            return [ops, heartbeat, worker]
        }
    }
}
