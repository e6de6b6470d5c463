import ArgumentParser
import MailfleetAPI
import MailfleetBootstrap
import MailfleetConfiguration

/// `mailfleet-api`: the HTTP ingester.
@main
struct APICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mailfleet-api", abstract: "Accepts messages over HTTP, commits them to Postgres and enqueues them in Redis.")

    @OptionGroup var options: APIOptions

    func run() async throws {
        let config = try APIConfiguration(options)
        try await Bootstrap.run(service: "mailfleet-api", logLevel: options.logging.logLevel) { clients, logger in
            let pool = clients.postgres(url: try options.database.databaseURL, size: config.databasePoolSize, name: "api-pg")
            let redis = clients.redis(url: try options.queue.redisURL, connections: 4, name: "api-redis")
            logger.info("mailfleet-api listening", metadata: ["host": "\(config.host)", "port": "\(config.port)"])
            return APIServer.services(
                configuration: config, stores: APIStores(pool: pool, redis: redis, partitions: config.partitions),
                readiness: clients.readinessChecks, logger: logger)
        }
    }
}
