import ArgumentParser
import MailfleetBootstrap
import MailfleetCore
import MailfleetConfiguration
import MailfleetHTTPClient
import MailfleetStore
import MailfleetTracker

/// `mailfleet-tracker`: opens, clicks, one-click unsubscribes and provider webhooks.
@main
struct TrackerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mailfleet-tracker", abstract: "Serves the open pixel, click redirects, one-click unsubscribes and provider webhooks, and records their events.")

    @OptionGroup var options: TrackerOptions

    func run() async throws {
        let config = TrackerConfiguration(
            host: try options.host, port: try options.port, trackingSecret: try options.trackingSecret,
            webhookToleranceSeconds: try options.webhookToleranceSeconds, machineOpenSeconds: try options.machineOpenSeconds)
        try await Bootstrap.run(service: "mailfleet-tracker", logLevel: options.logging.logLevel) { clients, logger in
            let dispatch = try options.webhookDispatch
            // The dispatcher claims and writes beside the event writes: two more connections.
            let pool = clients.postgres(url: try options.database.databaseURL, size: dispatch ? 4 : 2, name: "tracker-pg")
            // Ready with Postgres alone: only Mailgun's webhooks need Redis (they answer 503 without
            // it, and Mailgun retries); opens, clicks and the other providers' webhooks do not.
            let checks = clients.readinessChecks
            let redis = clients.redis(url: try options.queue.redisURL, connections: 2, name: "tracker-redis")
            let http = clients.http(name: "tracker-http")
            let sns = SNSEndpoint { url in
                let response = try await http.execute(HTTPRequest(url: url, timeout: .seconds(10)))
                return (response.status, response.body)
            }
            let webhooks = WebhookDependencies(
                tenants: TenantStore(pool: pool), events: WebhookEventStore(pool: pool),
                replay: WebhookReplayGuard(redis: redis, ttlSeconds: Int(config.webhookFreshness.tolerance) * 2 + 60), sns: sns)
            var dispatcher: WebhookDispatcher?
            if dispatch {
                var hooks = WebhookDispatcherConfiguration()
                hooks.limits = WebhookDispatchBoard.Limits(concurrency: try options.webhookConcurrency, batchSize: try options.webhookBatchSize)
                hooks.connectTimeout = .milliseconds(Int(try options.webhookConnectTimeoutSeconds * 1000))
                hooks.requestTimeout = .milliseconds(Int(try options.webhookTimeoutSeconds * 1000))
                hooks.schedule = WebhookRetrySchedule(delays: try options.webhookRetrySchedule)
                hooks.pollInterval = .milliseconds(Int(try options.webhookPollSeconds * 1000))
                hooks.egress = try options.egress.policy
                dispatcher = WebhookDispatcher(
                    configuration: hooks, store: WebhookDeliveryStore(pool: pool),
                    client: clients.http(name: "tracker-webhooks", configuration: hooks.httpClientConfiguration), logger: logger)
            }
            logger.info("mailfleet-tracker listening", metadata: ["host": "\(config.host)", "port": "\(config.port)"])
            return TrackerServer.services(
                configuration: config, events: EventStore(pool: pool), suppressions: SuppressionStore(pool: pool), webhooks: webhooks,
                checks: checks, logger: logger, dispatcher: dispatcher)
        }
    }
}
