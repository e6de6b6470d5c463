import Logging
import MailfleetCore

/// Every `MAILFLEET_*` setting of every process: its variable, flag, default and meaning, in one
/// place. The defaults work for local runs (`./ops/run`); README's configuration table is checked
/// against this list by a test.
public struct Settings: Sendable {
    // MARK: Shared

    /// Postgres, the system of record.
    public let databaseURL = Setting.url(
        "MAILFLEET_DATABASE_URL", flag: "--database-url", default: "postgres://postgres@127.0.0.1:15432/mailfleet",
        schemes: ["postgres", "postgresql"], "Postgres URL")
    /// Redis, the dispatch plane.
    public let redisURL = Setting.url(
        "MAILFLEET_REDIS_URL", flag: "--redis-url", default: "redis://127.0.0.1:16379/0", schemes: ["redis"], "Redis URL")
    /// Queue partitions; must match across api, scheduler and workers.
    public let partitions = Setting.number(
        "MAILFLEET_PARTITIONS", flag: "--partitions", default: 8, in: 1...Int.max,
        "Queue partitions, the same in api, scheduler and workers")
    /// The secret tracking links are signed with, shared by workers and the tracker.
    public let trackingSecret = Setting.secret(
        "MAILFLEET_TRACKING_SECRET", flag: "--tracking-secret", default: "mailfleet-dev-tracking-secret",
        described: "a development value", "Tracking token secret; set a real one in production")
    /// Log level of every process.
    public let logLevel = Setting.logLevel("MAILFLEET_LOG_LEVEL", flag: "--log-level", default: .info, "Log level")

    // MARK: mailfleet-api

    /// The API's listen address.
    public let apiHost = Setting.text("MAILFLEET_API_HOST", flag: "--host", default: "127.0.0.1", "API listen address")
    /// The API's listen port.
    public let apiPort = Setting.port("MAILFLEET_API_PORT", flag: "--port", default: 8080, "API listen port")
    /// The API's Postgres connections.
    public let databasePoolSize = Setting.number(
        "MAILFLEET_DB_POOL_SIZE", flag: "--db-pool-size", default: 8, in: 1...Int.max, "API Postgres connections")
    /// API requests per minute per tenant without its own limit.
    public let apiRateLimit = Setting.number(
        "MAILFLEET_API_RATE_LIMIT", flag: "--rate-limit", default: 6000, in: 1...Int.max,
        "API requests per minute per tenant without its own limit")
    /// The operator credential of the API's status page; empty leaves the page off.
    public let statusToken = Setting.secret(
        "MAILFLEET_STATUS_TOKEN", flag: "--status-token", default: "", described: "unset (page off)",
        "Operator password of the API's /status page (basic auth, any user, or bearer); unset: 404")

    // MARK: mailfleet-tracker

    /// The tracker's listen address.
    public let trackerHost = Setting.text("MAILFLEET_TRACKER_HOST", flag: "--host", default: "127.0.0.1", "Tracker listen address")
    /// The tracker's listen port.
    public let trackerPort = Setting.port("MAILFLEET_TRACKER_PORT", flag: "--port", default: 8081, "Tracker listen port")
    /// How far a provider webhook's signing time may be from now.
    public let webhookToleranceSeconds = Setting.seconds(
        "MAILFLEET_WEBHOOK_TOLERANCE_SECONDS", flag: "--webhook-tolerance-seconds", default: 600,
        "How far a provider webhook's signing time may be from now (SNS's at least an hour)")
    /// How soon after the send an open or click counts as a scanner's.
    public let machineOpenSeconds = Setting.seconds(
        "MAILFLEET_MACHINE_OPEN_SECONDS", flag: "--machine-open-seconds", default: 2,
        "An open or click this soon after the send is flagged as a machine's (a scanner's)")

    // MARK: Webhooks to tenants (egress)

    /// Whether tenant webhook URLs may use plain http.
    public let webhookAllowHTTP = Setting.switched(
        "MAILFLEET_WEBHOOK_ALLOW_HTTP", flag: "--webhook-allow-http", default: false,
        "Allow http:// webhook URLs (for local development only; production needs https)")
    /// Networks webhooks may reach although they are private, loopback or otherwise refused.
    public let webhookAllowedNetworks = Setting.networks(
        "MAILFLEET_WEBHOOK_ALLOWED_NETWORKS", flag: "--webhook-allowed-networks",
        "Comma-separated CIDRs webhooks may reach although private or loopback (on-premises receivers)")

    // MARK: Webhooks to tenants (mailfleet-tracker)

    /// Whether this tracker replica delivers webhooks to tenants' endpoints.
    public let webhookDispatch = Setting.switched(
        "MAILFLEET_WEBHOOK_DISPATCH", flag: "--webhook-dispatch", default: true,
        "Whether this tracker replica delivers webhooks to tenants' endpoints (replicas share the work through Postgres)")
    /// Requests open at once to one endpoint from one tracker replica.
    public let webhookConcurrency = Setting.number(
        "MAILFLEET_WEBHOOK_CONCURRENCY", flag: "--webhook-concurrency", default: 4, in: 1...1_000,
        "Requests open at once to one webhook endpoint from one tracker replica")
    /// Events per request to an endpoint that takes batches.
    public let webhookBatchSize = Setting.number(
        "MAILFLEET_WEBHOOK_BATCH_SIZE", flag: "--webhook-batch-size", default: 100, in: 1...1_000,
        "Events per request (a JSON array) to a webhook endpoint that opted in to batches")
    /// The limit for connecting to an endpoint.
    public let webhookConnectTimeoutSeconds = Setting.seconds(
        "MAILFLEET_WEBHOOK_CONNECT_TIMEOUT_SECONDS", flag: "--webhook-connect-timeout-seconds", default: 5,
        "Seconds to connect to a webhook endpoint (TLS included)")
    /// The limit for a whole request to an endpoint.
    public let webhookTimeoutSeconds = Setting.seconds(
        "MAILFLEET_WEBHOOK_TIMEOUT_SECONDS", flag: "--webhook-timeout-seconds", default: 15,
        "Seconds a webhook request may take in all before it counts as failed")
    /// Waits after each failed attempt.
    public let webhookRetrySchedule = Setting.secondsList(
        "MAILFLEET_WEBHOOK_RETRY_SCHEDULE", flag: "--webhook-retry-schedule", default: [5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400],
        "Seconds to wait after each failed webhook attempt (±20 % jitter); after the last the delivery has failed")
    /// How often a dispatcher looks for due deliveries.
    public let webhookPollSeconds = Setting.seconds(
        "MAILFLEET_WEBHOOK_POLL_SECONDS", flag: "--webhook-poll-seconds", default: 0.1,
        "Seconds between a tracker replica's looks for due webhook deliveries")

    // MARK: mailfleet-sim

    /// The simulator's listen address.
    public let simulatorHost = Setting.text("MAILFLEET_SIM_HOST", flag: "--host", default: "127.0.0.1", "Simulator listen address")
    /// The simulator's listen port.
    public let simulatorPort = Setting.port("MAILFLEET_SIM_PORT", flag: "--port", default: 8082, "Simulator listen port")
    /// What the simulator keeps per message beyond counters (`SimulatorRecording`'s cases).
    public let simulatorRecord = Setting.choice(
        "MAILFLEET_SIM_RECORD", flag: "--record", default: "counters", among: ["counters", "arrivals", "all"],
        "What the simulator keeps per message: counters (none), arrivals (first arrival time per message id) or all (also deliveries per id and each recipient's variables)")

    // MARK: mailfleet-scheduler

    /// The scheduler's ops listen address.
    public let schedulerHost = Setting.text(
        "MAILFLEET_SCHEDULER_HOST", flag: "--host", default: "127.0.0.1", "Scheduler ops listen address (/metrics, /healthz, /readyz)")
    /// The scheduler's ops listen port.
    public let schedulerPort = Setting.port("MAILFLEET_SCHEDULER_PORT", flag: "--port", default: 8083, "Scheduler ops listen port")
    /// How long a queued message may make no progress before it is enqueued again.
    public let reconcileAfterSeconds = Setting.seconds(
        "MAILFLEET_RECONCILE_AFTER_SECONDS", flag: "--reconcile-after-seconds", default: 300,
        "Seconds without progress before a queued message is enqueued again")
    /// Time between reconciliation passes.
    public let reconcileEverySeconds = Setting.seconds(
        "MAILFLEET_RECONCILE_EVERY_SECONDS", flag: "--reconcile-every-seconds", default: 10, "Seconds between reconciliation passes")

    // MARK: mailfleet-worker

    /// The worker's ops listen address.
    public let workerHost = Setting.text(
        "MAILFLEET_WORKER_HOST", flag: "--host", default: "127.0.0.1", "Worker ops listen address (/metrics, /healthz, /readyz)")
    /// The worker's ops listen port.
    public let workerPort = Setting.port("MAILFLEET_WORKER_PORT", flag: "--port", default: 8090, "Worker ops listen port")
    /// Fetch-and-send loops per worker.
    public let workerLanes = Setting.number(
        "MAILFLEET_WORKER_LANES", flag: "--lanes", default: 4, in: 1...Int.max, "Concurrent fetch-and-send lanes per worker")
    /// Lanes per worker that fetch transactional mail alone.
    public let workerTransactionalLanes = Setting.number(
        "MAILFLEET_WORKER_TRANSACTIONAL_LANES", flag: "--transactional-lanes", default: 1, in: 0...Int.max,
        "Lanes per worker that fetch transactional mail alone, besides --lanes, so it never waits behind a bulk round")
    /// Messages per fetch.
    public let workerBatch = Setting.number(
        "MAILFLEET_WORKER_BATCH", flag: "--batch-size", default: 500, in: 1...Int.max, "Messages per fetch")
    /// Entries a tenant of weight 1 takes per turn in its lane's fair share.
    public let fairQuantum = Setting.number(
        "MAILFLEET_FAIR_QUANTUM", flag: "--fair-quantum", default: 50, in: 1...100_000,
        "Queue entries a tenant of weight 1 takes per turn in its lane's fair share (weight N takes N times as many)")
    /// The share of every fetch bulk keeps while it has work.
    public let bulkMinimumSharePercent = Setting.number(
        "MAILFLEET_BULK_MIN_SHARE_PERCENT", flag: "--bulk-min-share-percent", default: 10, in: 0...100,
        "Percent of every fetch kept for bulk mail while it has work, so transactional traffic never starves it")
    /// How long bulk messages that could share a provider call wait for more of their kind.
    public let bulkLingerMs = Setting.number(
        "MAILFLEET_BULK_LINGER_MS", flag: "--bulk-linger-ms", default: 200, in: 0...10_000,
        "Milliseconds bulk messages that could share a provider call wait for more of the same tenant and body (0: never); transactional never waits")
    /// Where the outbox provider writes `.eml` files.
    public let outboxDirectory = Setting.text(
        "MAILFLEET_OUTBOX_DIR", flag: "--outbox-dir", default: ".mailfleet/outbox", "Folder the outbox provider writes .eml files to")
    /// The tracker's public URL, used in tracking links.
    public let trackerURL = Setting.url(
        "MAILFLEET_TRACKER_URL", flag: "--tracker-url", default: "http://127.0.0.1:8081", schemes: ["http", "https"],
        "The tracker's public URL, used in tracking links")
    /// First retry delay; later ones grow from it.
    public let retryBaseSeconds = Setting.seconds(
        "MAILFLEET_RETRY_BASE_SECONDS", flag: "--retry-base-seconds", default: 10, "Base retry delay in seconds")
    /// How long a fetched message belongs to one worker.
    public let leaseSeconds = Setting.seconds(
        "MAILFLEET_LEASE_SECONDS", flag: "--lease-seconds", default: 120, "Seconds a fetched message is leased to its worker")
    /// How long a paused bulk message waits before a worker looks at it again.
    public let bulkPauseRecheckSeconds = Setting.seconds(
        "MAILFLEET_BULK_PAUSE_RECHECK_SECONDS", flag: "--bulk-pause-recheck-seconds", default: 60,
        "Seconds a bulk message held by a sender-health pause waits before a worker looks at it again")
    /// The longest delay between two attempts of a message.
    public let retryMaxDelaySeconds = Setting.seconds(
        "MAILFLEET_RETRY_MAX_DELAY_SECONDS", flag: "--retry-max-delay-seconds", default: 3600, "Longest retry delay in seconds")
    /// Attempts in all before a message is dead-lettered.
    public let retryMaxAttempts = Setting.number(
        "MAILFLEET_RETRY_MAX_ATTEMPTS", flag: "--retry-max-attempts", default: 8, in: 1...Int.max,
        "Attempts per message (the first included) before it is dead-lettered")
    /// Age past which a message that fails again is dead-lettered.
    public let retryMaxAgeHours = Setting.number(
        "MAILFLEET_RETRY_MAX_AGE_HOURS", flag: "--retry-max-age-hours", default: 72, in: 1...Int.max,
        "Hours after acceptance (or the last re-drive) past which a failed message is dead-lettered instead of retried")
    /// Calls a provider account's circuit breaker takes its failure rate over.
    public let circuitWindow = Setting.number(
        "MAILFLEET_CIRCUIT_WINDOW", flag: "--circuit-window", default: 20, in: 1...10_000,
        "Latest calls a provider account's failure rate is taken over")
    /// Calls the breaker's window must hold before it can trip.
    public let circuitMinimumCalls = Setting.number(
        "MAILFLEET_CIRCUIT_MINIMUM_CALLS", flag: "--circuit-minimum-calls", default: 5, in: 1...10_000,
        "Calls the window must hold before the circuit can open")
    /// Failure rate that opens the breaker.
    public let circuitFailureRate = Setting.number(
        "MAILFLEET_CIRCUIT_FAILURE_RATE", flag: "--circuit-failure-rate", default: 50, in: 1...100,
        "Percent of failed calls in the window that opens the circuit")
    /// A call this slow counts as failed.
    public let circuitSlowCallMs = Setting.number(
        "MAILFLEET_CIRCUIT_SLOW_CALL_MS", flag: "--circuit-slow-call-ms", default: 10_000, in: 1...Int.max,
        "Milliseconds after which a provider call counts as failed")
    /// The first open period.
    public let circuitOpenBaseMs = Setting.number(
        "MAILFLEET_CIRCUIT_OPEN_BASE_MS", flag: "--circuit-open-base-ms", default: 5_000, in: 1...Int.max,
        "Milliseconds a circuit stays open after its first trip; doubles per repeated trip")
    /// The longest open period.
    public let circuitOpenMaxMs = Setting.number(
        "MAILFLEET_CIRCUIT_OPEN_MAX_MS", flag: "--circuit-open-max-ms", default: 300_000, in: 1...Int.max,
        "Longest open period in milliseconds")
    /// Probes in half-open.
    public let circuitHalfOpenProbes = Setting.number(
        "MAILFLEET_CIRCUIT_HALF_OPEN_PROBES", flag: "--circuit-half-open-probes", default: 3, in: 1...1_000,
        "Probe calls in half-open, all of which must succeed to close the circuit")
    /// A probe not reported within this time is given out again.
    public let circuitProbeTimeoutMs = Setting.number(
        "MAILFLEET_CIRCUIT_PROBE_TIMEOUT_MS", flag: "--circuit-probe-timeout-ms", default: 30_000, in: 1...Int.max,
        "Milliseconds after which an unanswered probe is given out again")

    // MARK: Dead letters (mailfleet-scheduler)

    /// How long failed messages are kept for inspection and re-drive before the scheduler deletes them.
    public let deadLetterRetentionDays = Setting.number(
        "MAILFLEET_DEAD_LETTER_RETENTION_DAYS", flag: "--dead-letter-retention-days", default: 30, in: 1...Int.max,
        "Days a failed message (dead letter) is kept before the scheduler deletes it")
    public let messageRetentionDays = Setting.number(
        "MAILFLEET_MESSAGE_RETENTION_DAYS", flag: "--message-retention-days", default: 30, in: 1...Int.max,
        "Days messages and their events are kept; a tenant's own setting may shorten it (day partitions are dropped after it)")
    // MARK: Sender health (mailfleet-scheduler)

    /// The hard-bounce share of sent mail above which a sender's bulk mail pauses.
    public let healthBounceThresholdPercent = Setting.number(
        "MAILFLEET_HEALTH_BOUNCE_THRESHOLD_PERCENT", flag: "--health-bounce-threshold-percent", default: 5, in: 1...100,
        "Percent of sent mail hard-bouncing (over 1 h or 24 h) above which a tenant's or domain's bulk mail pauses")
    /// Sent messages a window must hold before its rates can pause bulk mail.
    public let healthMinimumVolume = Setting.number(
        "MAILFLEET_HEALTH_MINIMUM_VOLUME", flag: "--health-minimum-volume", default: 500, in: 1...Int.max,
        "Messages sent in a window (1 h or 24 h) before its bounce and complaint rates can pause bulk mail")
    /// How often the leader evaluates sender health.
    public let healthEvaluateEverySeconds = Setting.seconds(
        "MAILFLEET_HEALTH_EVALUATE_EVERY_SECONDS", flag: "--health-evaluate-every-seconds", default: 60,
        "Seconds between the scheduler leader's sender-health evaluations")

    /// Recipients a campaign runner expands per transaction.
    public let campaignChunk = Setting.number(
        "MAILFLEET_CAMPAIGN_CHUNK", flag: "--campaign-chunk", default: 500, in: 1...5000,
        "Recipients a scheduler's campaign runner expands into messages per transaction (one cursor move)")

    /// The scheduler's leader lease: how soon a standby takes over from a dead leader.
    public let leaderLeaseSeconds = Setting.seconds(
        "MAILFLEET_LEADER_LEASE_SECONDS", flag: "--leader-lease-seconds", default: 5,
        "Seconds a scheduler's leadership lasts without renewal; a standby takes over within this long of the leader's death")

    /// The catalogue.
    public init() {}

    /// The one catalogue every option group reads.
    public static let catalogue = Settings()

    /// Every setting above, in declaration order (read by reflection, so none can be left out).
    public static var all: [any DocumentedSetting] {
        Mirror(reflecting: catalogue).children.compactMap { $0.value as? any DocumentedSetting }
    }
}
