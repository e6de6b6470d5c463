import ArgumentParser
import MailfleetBootstrap
import MailfleetConfiguration
import MailfleetCore
import MailfleetObservability
import MailfleetScheduler
import MailfleetStore

/// `mailfleet-scheduler`: promotes due work, reclaims dead workers' leases, reconciles.
@main
struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mailfleet-scheduler", abstract: "Moves due and stalled work onto the ready queues; one leader among replicas.")

    @OptionGroup var options: SchedulerOptions

    func run() async throws {
        let config = try SchedulerConfiguration(options)
        try await Bootstrap.run(service: "mailfleet-scheduler", logLevel: options.logging.logLevel) { clients, logger in
            let pool = clients.postgres(url: try options.database.databaseURL, size: 2, name: "scheduler-pg")
            let redis = clients.redis(url: try options.queue.redisURL, connections: 2, name: "scheduler-redis")
            let queue = MessageQueue(redis: redis, partitioning: Partitioning(count: config.partitions))
            let scheduler = SchedulerService(
                configuration: config, redis: redis, queue: queue, store: MessageStore(pool: pool), tenants: TenantStore(pool: pool),
                retention: RetentionStore(pool: pool), logger: logger)
            let campaigns = CampaignRunner(store: CampaignStore(pool: pool), queue: queue, configuration: try CampaignRunnerConfiguration(options), logger: logger)
            let sequences = SequenceRunner(store: SequenceStore(pool: pool), queue: queue, logger: logger)
            let ops = OpsRoutes.server(host: try options.host, port: try options.port, checks: clients.readinessChecks, logger: logger)
            return [ops, scheduler, campaigns, sequences]
        }
    }
}
