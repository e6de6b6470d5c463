import Foundation
import MailfleetCore
import MailfleetStore

/// How a sender worker runs. Every field has a default that works for local runs.
public struct WorkerConfiguration: Sendable {
    /// Queue partitions (must match the API's and scheduler's).
    public var partitions = 8
    /// Most messages fetched and claimed at once by one lane. Default 500.
    public var batchSize = 500
    /// How a fetch shares a partition between lanes and tenants, and how long bulk lingers so
    /// provider calls are full (the queue is made with it; a round gathers ripe bulk from every
    /// partition up to `bulkFull`). Default: a quantum of 50, 10 % for bulk, a 200 ms linger,
    /// calls of up to 1,000.
    public var fairness = MessageQueue.Fairness(bulkLingerMs: 200)
    /// Fetch-and-send loops running side by side in this process. Default 4: enough to keep
    /// provider calls overlapping with database writes on two cores.
    public var lanes = 4
    /// Lanes that fetch transactional mail alone, besides `lanes`. Default 1: a transactional
    /// message waits for the next poll of an idle lane, never for a bulk round to end.
    public var transactionalLanes = 1
    /// How long a fetched message is ours before the scheduler may hand it to another worker.
    /// Longer than the provider call timeout plus the write-back. Default 120 s.
    public var leaseSeconds = 120.0
    /// Pause between polls when every partition is empty. Default 50 ms. While the queue is
    /// empty one lane polls and the worker's other (non-transactional) lanes wait for it to find
    /// work; each transactional lane polls on its own.
    public var idleDelay: Duration = .milliseconds(50)
    /// Provider call timeout. Default 30 s.
    public var callTimeout: Duration = .seconds(30)
    /// Where the outbox provider writes `.eml` files.
    public var outboxDirectory = ".mailfleet/outbox"
    /// The tracker's public URL, used in tracking links.
    public var trackerBaseURL = "http://127.0.0.1:8081"
    /// The secret tracking tokens are signed with (shared with the tracker).
    public var trackingSecret = "mailfleet-dev-tracking-secret"
    /// When to retry and when to give up.
    public var retry = RetryPolicy()
    /// How long a tenant's provider chain is cached. Default 10 s. Messages of a tenant with no
    /// provider account are held this long before their chain is looked at again, so they go
    /// within about twice this time of an account being added.
    public var providerCacheSeconds = 10.0
    /// How long a bulk message held by a sender-health pause waits before it is looked at
    /// again. Longer than the chain cache: each wake costs a claim, an update and an event, and
    /// a paused tenant may hold a large backlog. Default 60 s.
    public var bulkPauseRecheckSeconds = 60.0
    /// When a provider account's circuit breaker opens and for how long.
    public var circuitBreaker = CircuitBreaker.Configuration()
    /// How long an account that answered 429 is left alone by the fleet.
    public var pacing = AccountPacing()
    /// The defaults.
    public init() {}
}
