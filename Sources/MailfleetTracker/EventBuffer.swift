import Logging
import MailfleetCore
import MailfleetObservability
import MailfleetRuntime
import MailfleetStore
import ServiceLifecycle

/// Collects tracking events and writes them in batches: every `interval`, or at once when
/// `maxBatch` are waiting. On graceful shutdown it writes what is left, waiting for a write
/// already running rather than skipping it.
public final class EventBuffer: Service, Sendable {
    private let writes: GroupCommit<NewEvent, Void>
    private let interval: Duration

    /// Creates a buffer.
    public init(store: EventStore, logger: Logger, interval: Duration = .milliseconds(200), maxBatch: Int = 1000) {
        self.interval = interval
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

    /// Writes everything waiting, after any write already running.
    public func flush() async {
        await writes.flush()
    }

    /// Flushes every `interval` until graceful shutdown, then once more.
    public func run() async throws {
        try await PeriodicService(every: interval) { await self.flush() }.run()
    }
}
