import Logging
import MailfleetCore
import MailfleetObservability
import MailfleetRuntime
import MailfleetStore
import ServiceLifecycle

/// Collects tracking events and writes them in batches: every `interval`, or at once when
/// `maxBatch` are waiting. On graceful shutdown it writes what is left, waiting for a write
/// already running rather than skipping it.
///
/// Provider webhook events go through `record`, which waits for their commit: a provider
/// retries a request we did not answer with 2xx, so a 200 must mean stored. Concurrent requests
/// share one transaction (group commit), so they are written in batches all the same.
public final class EventBuffer: Service, Sendable {
    private let writes: GroupCommit<NewEvent, Void>
    private let webhookWrites: GroupCommit<[ReceivedWebhookEvent], [WebhookEventFate]>
    private let interval: Duration

    /// Creates a buffer.
    public init(
        store: EventStore, webhooks: WebhookEventStore, logger: Logger, interval: Duration = .milliseconds(200), maxBatch: Int = 1000
    ) {
        self.interval = interval
        // One request that cannot be written (a value Postgres refuses) must not fail the
        // requests that happened to share its transaction: each is then retried alone.
        webhookWrites = GroupCommit(policy: GroupCommitPolicy(maxGroupWeight: maxBatch, onFailure: .retryEachAlone)) { requests in
            let fates = try await webhooks.record(requests.flatMap { $0 })
            var outputs: [[WebhookEventFate]] = []
            var start = 0
            for request in requests {
                outputs.append(Array(fates[start..<start + request.count]))
                start += request.count
            }
            return outputs
        }
        // A failed write keeps its events for the next one, but never grows without bound
        // while Postgres is away.
        writes = GroupCommit(policy: GroupCommitPolicy(startAt: maxBatch, onFailure: .requeue(keepingAtMost: 100_000))) { batch in
            do {
                try await store.insert(batch)
            } catch {
                logger.error("event write failed; will retry", metadata: ["error": "\(error)", "events": "\(batch.count)"])
                throw error
            }
            return Array(repeating: (), count: batch.count)
        }
    }

    /// Queues an event for the next write.
    public func append(_ event: NewEvent) {
        writes.append(event)
    }

    /// Writes one webhook request's events with whatever else is waiting; returns each event's fate.
    public func record(_ events: [ReceivedWebhookEvent]) async throws -> [WebhookEventFate] {
        guard !events.isEmpty else { return [] }
        return try await webhookWrites.submit(events, weight: events.count)
    }

    /// Writes everything waiting, after any write already running.
    public func flush() async {
        await writes.flush()
    }

    /// Flushes every `interval` until graceful shutdown, then once more.
    public func run() async throws {
        try await PeriodicService(every: interval) { await self.flush() }.run()
    }
}
