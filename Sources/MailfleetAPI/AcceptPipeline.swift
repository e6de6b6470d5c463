import Foundation
import Logging
import MailfleetCore
import MailfleetObservability
import MailfleetStore

/// Group commit: requests that arrive while a commit is running wait and go together in the
/// next one, so concurrent single sends share transactions instead of paying one commit each.
/// After the commit the new messages are put on the Redis queue, then every waiter resumes.
///
/// There is no timer: a lone request commits at once; batching grows only with concurrency.
public actor AcceptPipeline {
    private let store: MessageStore
    private let queue: MessageQueue
    private let logger: Logger
    private let maxConcurrentCommits: Int
    private let maxMessagesPerCommit: Int
    private var pending: [(request: AcceptRequest, continuation: CheckedContinuation<AcceptResult, Error>)] = []
    private var committing = 0
    private let groupSize = Telemetry.valueHistogram(
        "accept_group_requests", help: "API requests committed together in one transaction",
        buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256])
    private let accepted = Telemetry.counter("messages_accepted_total", help: "Messages committed by the API")
    private let enqueueFailures = Telemetry.counter(
        "enqueue_failures_total", help: "Committed messages whose Redis enqueue failed (the scheduler's reconciliation re-enqueues them)")

    /// Creates a pipeline.
    public init(store: MessageStore, queue: MessageQueue, logger: Logger, maxConcurrentCommits: Int = 4, maxMessagesPerCommit: Int = 5000) {
        self.store = store
        self.queue = queue
        self.logger = logger
        self.maxConcurrentCommits = maxConcurrentCommits
        self.maxMessagesPerCommit = maxMessagesPerCommit
    }

    /// Commits a request (with others arriving meanwhile) and enqueues its messages.
    public func submit(_ request: AcceptRequest) async throws -> AcceptResult {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((request, continuation))
            if committing < maxConcurrentCommits { startCommit() }
        }
    }

    private func startCommit() {
        guard !pending.isEmpty else { return }
        var taken = 0
        var messages = 0
        while taken < pending.count && (taken == 0 || messages + pending[taken].request.messages.count <= maxMessagesPerCommit) {
            messages += pending[taken].request.messages.count
            taken += 1
        }
        let group = Array(pending.prefix(taken))
        pending.removeFirst(taken)
        committing += 1
        Task { await self.runCommit(group) }
    }

    private func commit(_ group: [(request: AcceptRequest, continuation: CheckedContinuation<AcceptResult, Error>)]) async {
        groupSize.record(Double(group.count))
        do {
            let results: [AcceptResult]
            do {
                results = try await store.accept(group.map(\.request))
            } catch let error where group.count > 1 {
                // One request must not fail its neighbours: commit them one by one instead.
                logger.warning("group commit failed; retrying its requests one by one", metadata: ["error": "\(error)", "requests": "\(group.count)"])
                for entry in group { await commit([entry]) }
                return
            }
            var items: [MessageQueue.Item] = []
            var count = 0
            for (entry, result) in zip(group, results) where result == .created {
                for message in entry.request.messages where message.status == .queued {
                    items.append(MessageQueue.Item(id: message.id, priority: message.priority, dueAt: message.sendAt))
                }
                count += entry.request.messages.count
            }
            accepted.increment(by: Int64(count))
            do {
                try await queue.enqueue(items)
            } catch {
                // Committed is accepted: Postgres holds the messages and reconciliation will
                // enqueue them; the caller still gets its 202.
                enqueueFailures.increment(by: Int64(items.count))
                logger.error("enqueue after commit failed", metadata: ["error": "\(error)", "messages": "\(items.count)"])
            }
            for (entry, result) in zip(group, results) { entry.continuation.resume(returning: result) }
        } catch {
            logger.error("commit failed", metadata: ["error": "\(error)", "requests": "\(group.count)"])
            for entry in group { entry.continuation.resume(throwing: error) }
        }
    }

    private func runCommit(_ group: [(request: AcceptRequest, continuation: CheckedContinuation<AcceptResult, Error>)]) async {
        await commit(group)
        committing -= 1
        if !pending.isEmpty { startCommit() }
    }
}
