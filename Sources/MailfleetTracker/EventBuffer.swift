import Foundation
import Logging
import MailfleetCore
import MailfleetStore
import ServiceLifecycle

/// Collects tracking events and writes them in batches: every `interval`, or at once when
/// `maxBatch` are waiting. On graceful shutdown it writes what is left.
public actor EventBuffer: Service {
    private let store: EventStore
    private let logger: Logger
    private let interval: Duration
    private let maxBatch: Int
    private var pending: [NewEvent] = []
    private var flushing = false

    /// Creates a buffer.
    public init(store: EventStore, logger: Logger, interval: Duration = .milliseconds(200), maxBatch: Int = 1000) {
        self.store = store
        self.logger = logger
        self.interval = interval
        self.maxBatch = maxBatch
    }

    /// Queues an event for the next write.
    public func append(_ event: NewEvent) {
        pending.append(event)
        if pending.count >= maxBatch && !flushing {
            Task { await self.flush() }
        }
    }

    /// Writes everything waiting; keeps events for the next try if the write fails (up to a bound).
    public func flush() async {
        guard !pending.isEmpty, !flushing else { return }
        flushing = true
        let batch = pending
        pending = []
        do {
            try await store.insert(batch)
        } catch {
            logger.error("event write failed; will retry", metadata: ["error": "\(error)", "events": "\(batch.count)"])
            // Keep them, but never grow without bound while Postgres is away.
            pending = Array((batch + pending).suffix(100_000))
        }
        flushing = false
    }

    /// Flushes periodically until graceful shutdown, then flushes once more.
    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            await flush()
        }
        await flush()
    }
}
