import Foundation
import Logging
import MailfleetCore
import MailfleetObservability
import MailfleetRuntime
import MailfleetStore

/// Group commit of accepted messages: requests that arrive while a commit is running wait and go
/// together in the next one, so concurrent single sends share transactions instead of paying one
/// commit each. After the commit the new messages are put on the Redis queue, then every waiter
/// resumes.
///
/// There is no timer: a lone request commits at once; batching grows only with concurrency.
public struct AcceptPipeline: Sendable {
    private let commits: GroupCommit<AcceptRequest, AcceptResult>
    private let store: MessageStore
    private let queue: MessageQueue
    private let logger: Logger

    /// Creates a pipeline.
    public init(store: MessageStore, queue: MessageQueue, logger: Logger, maxConcurrentCommits: Int = 4, maxMessagesPerCommit: Int = 5000) {
        let metrics = Metrics()
        self.store = store
        self.queue = queue
        self.logger = logger
        commits = GroupCommit(
            policy: GroupCommitPolicy(
                maxConcurrentGroups: maxConcurrentCommits, maxGroupWeight: maxMessagesPerCommit, onFailure: .retryEachAlone)
        ) { group in
            try await Self.commit(group, store: store, queue: queue, logger: logger, metrics: metrics)
        }
    }

    /// Commits a request (with others arriving meanwhile) and enqueues its messages.
    public func submit(_ request: AcceptRequest) async throws -> AcceptResult {
        try await commits.submit(request, weight: request.messages.count)
    }

    /// Enqueues again the messages of a replayed answer that are still `queued`. The request
    /// being replayed may have committed and then died (a killed API) before its enqueue; the
    /// client's retry then moves its messages at once instead of after the reconciliation age.
    /// An entry Redis already holds is only duplicated, which the workers' claim makes harmless.
    /// Failures are logged: the replay is answered all the same, and reconciliation remains.
    public func enqueueAgain(replayed body: String, tenantID: UUID) async {
        let ids = StoredAnswer.messageIDs(in: body)
        guard !ids.isEmpty else { return }
        do {
            try await queue.enqueue(try await store.stillQueued(tenantID: tenantID, ids: ids))
        } catch {
            logger.warning("enqueueing a replayed answer's messages again failed; reconciliation will", metadata: ["error": "\(error)", "messages": "\(ids.count)"])
        }
    }

    private static func commit(
        _ group: [AcceptRequest], store: MessageStore, queue: MessageQueue, logger: Logger, metrics: Metrics
    ) async throws -> [AcceptResult] {
        metrics.groupSize.record(Double(group.count))
        let results: [AcceptResult]
        do {
            results = try await store.accept(group)
        } catch {
            if group.count > 1 {
                // GroupCommit retries them one by one, so one request does not fail its neighbours.
                logger.warning("group commit failed; retrying its requests one by one", metadata: ["error": "\(error)", "requests": "\(group.count)"])
            } else {
                logger.error("commit failed", metadata: ["error": "\(error)", "requests": "\(group.count)"])
            }
            throw error
        }
        var items: [MessageQueue.Item] = []
        var count = 0
        var byTenant: [UUID: Int] = [:]
        for (request, result) in zip(group, results) {
            if case .overQuota(let refusal) = result { metrics.refused[refusal.period]?.increment(by: Int64(request.messages.count)) }
            guard result == .created else { continue }
            for message in request.messages where message.status == .queued {
                items.append(MessageQueue.Item(id: message.id, priority: message.priority, tenantID: request.tenantID, dueAt: message.sendAt))
            }
            count += request.messages.count
            byTenant[request.tenantID, default: 0] += request.messages.count
        }
        metrics.accepted.increment(by: Int64(count))
        metrics.acceptedByTenant.increment(byTenant)
        do {
            try await queue.enqueue(items)
        } catch {
            // Committed is accepted: Postgres holds the messages and reconciliation will
            // enqueue them; the caller still gets its 202.
            metrics.enqueueFailures.increment(by: Int64(items.count))
            logger.error("enqueue after commit failed", metadata: ["error": "\(error)", "messages": "\(items.count)"])
        }
        return results
    }

    private struct Metrics: Sendable {
        let groupSize = Telemetry.valueHistogram(
            "accept_group_requests", help: "API requests committed together in one transaction",
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256])
        let accepted = Telemetry.counter("messages_accepted_total", help: "Messages committed by the API")
        let acceptedByTenant = TenantCounter("tenant_messages_accepted_total", help: "Messages committed by the API, per tenant")
        let refused = Dictionary(uniqueKeysWithValues: QuotaPeriod.allCases.map { period in
            (period, Telemetry.counter(
                "quota_refused_messages_total", help: "Messages refused at accept (429 quota_exceeded) because they would cross a quota",
                labels: [("period", period.rawValue)]))
        })
        let enqueueFailures = Telemetry.counter(
            "enqueue_failures_total", help: "Committed messages whose Redis enqueue failed (the scheduler's reconciliation re-enqueues them)")
    }
}
