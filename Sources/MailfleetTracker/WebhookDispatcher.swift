import Foundation
import Logging
import MailfleetCore
import MailfleetHTTPClient
import MailfleetObservability
import MailfleetRuntime
import MailfleetStore
import Metrics
import ServiceLifecycle

/// Delivers webhooks to tenants' endpoints (docs/WEBHOOKS.md). Claims due deliveries from
/// Postgres in batches with a lease (every tracker replica runs one; they share the work with
/// `SKIP LOCKED`), holds them per endpoint on a `WebhookDispatchBoard` so a slow endpoint only
/// fills its own slots, signs and posts them, and writes the attempts in batches. A write lost
/// to a crash only means the deliveries fall due again when their lease ends: at least once.
public final class WebhookDispatcher: Service, Sendable {
    private let configuration: WebhookDispatcherConfiguration
    private let store: WebhookDeliveryStore
    private let client: HTTPClient
    private let logger: Logger
    private let board: Locked<WebhookDispatchBoard>
    private let endpoints = Locked<[UUID: WebhookEndpoint]>([:])
    private let writes: GroupCommit<WebhookAttemptRecord, Void>
    private let metrics = WebhookDispatchMetrics()

    /// Creates a dispatcher sending through `client` (made with `configuration.httpClientConfiguration`).
    public init(configuration: WebhookDispatcherConfiguration, store: WebhookDeliveryStore, client: HTTPClient, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.client = client
        self.logger = logger
        board = Locked(WebhookDispatchBoard(limits: configuration.limits))
        // Attempts are written together; a failed write is logged and dropped, and its
        // deliveries are sent again when their lease ends (at least once).
        writes = GroupCommit(policy: GroupCommitPolicy(maxGroupWeight: 2000)) { records in
            do {
                let disabled = try await store.record(records)
                for id in disabled {
                    logger.warning("webhook endpoint disabled after failing throughout its retry schedule", metadata: ["endpoint_id": "\(id.lowercasedString)"])
                }
            } catch {
                logger.error("webhook attempts not recorded; their deliveries are sent again after the lease", metadata: ["error": "\(error)", "attempts": "\(records.count)"])
                throw error
            }
            return Array(repeating: (), count: records.count)
        }
    }

    /// Claims and delivers until graceful shutdown, then gives back what it has not started and
    /// lets the requests already open finish.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                var claimedFull = false
                do {
                    claimedFull = try await claimAndStart(group: &group)
                } catch {
                    logger.error("webhook claim failed; retrying", metadata: ["error": "\(error)"])
                }
                if !claimedFull {
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.configuration.pollInterval) }
                }
            }
            let unstarted = board.withLock { $0.drain() }
            do {
                try await store.release(unstarted.map(\.message.deliveryID))
            } catch {
                logger.warning("claimed webhook deliveries not given back; they fall due when their lease ends", metadata: ["error": "\(error)"])
            }
        }
        await writes.flush()
    }

    /// One claim and the requests it lets start; true when the claim was full (more may be due).
    private func claimAndStart(group: inout DiscardingTaskGroup) async throws -> Bool {
        try await refreshEndpoints()
        let room = configuration.claimSize * 2 - board.withLock { $0.waiting }
        var full = false
        if room > 0 {
            let excluded = board.withLock { $0.full }
            let limit = min(room, configuration.claimSize)
            let claimed = try await store.claim(limit: limit, excluding: excluded, lease: configuration.leaseSeconds)
            full = claimed.claims.count == limit
            if !claimed.claims.isEmpty {
                endpoints.withLock { known in
                    for (id, endpoint) in claimed.endpoints { known[id] = endpoint }
                }
                let surplus = board.withLock { $0.admit(claimed.claims, batch: claimed.endpoints.mapValues(\.batch)) }
                if !surplus.isEmpty { try await store.release(surplus.map(\.message.deliveryID)) }
            }
        }
        for plan in board.withLock({ $0.start() }) {
            group.addTask { await self.serve(slotStartingWith: plan) }
        }
        return full
    }

    /// Re-reads the endpoints this replica holds deliveries for, once per look: a request goes
    /// with the endpoint's URL and secrets as they are now, and the waiting deliveries of an
    /// endpoint disabled or deleted since they were claimed are dropped from the board (a
    /// disable holds them in Postgres; a delete removes them), so none goes out after the change.
    private func refreshEndpoints() async throws {
        let held = board.withLock { $0.endpointIDs }
        guard !held.isEmpty else { return }
        let current = try await store.endpoints(held)
        endpoints.withLock { known in
            for id in held { known[id] = current[id] }
        }
        var dropped: [WebhookClaim] = []
        for id in held where current[id]?.enabled != true {
            dropped += board.withLock { $0.remove(id) }
        }
        // Pending ones (an endpoint disabled and enabled again in between) are due again at once.
        if !dropped.isEmpty { try await store.release(dropped.map(\.message.deliveryID)) }
    }

    /// Makes one slot's requests to its endpoint, one after the other, while it has deliveries waiting.
    private func serve(slotStartingWith first: WebhookRequestPlan) async {
        var plan: WebhookRequestPlan? = first
        while let current = plan {
            await deliver(current)
            plan = board.withLock { $0.next(after: current.endpointID) }
        }
    }

    /// Signs and posts one request, and queues its attempt for writing.
    private func deliver(_ plan: WebhookRequestPlan) async {
        // Gone or disabled since the claim: nothing is sent; a disable held these deliveries in
        // Postgres, a delete removed them.
        guard let endpoint = endpoints.withLock({ $0[plan.endpointID] }), endpoint.enabled else { return }
        let now = Date()
        let messages = plan.claims.map(\.message)
        var status: Int?
        var failure: String?
        let started = ContinuousClock.now
        do {
            let body = try WebhookMessage.body(messages, batch: plan.batch)
            let id = WebhookMessage.webhookID(of: messages)
            let signer = WebhookSigner(secrets: endpoint.signingSecrets(at: now))
            var headers = signer.headers(id: id, timestamp: Int(now.timeIntervalSince1970), body: body).map { HTTPHeader($0.name, $0.value) }
            headers.append(HTTPHeader("Content-Type", "application/json"))
            let response = try await client.execute(
                HTTPRequest(method: "POST", url: endpoint.url, headers: headers, body: body, timeout: configuration.requestTimeout))
            status = response.status
        } catch {
            failure = "\(error)"
        }
        let elapsed = ContinuousClock.now - started
        var generator = SystemRandomNumberGenerator()
        let record = WebhookAttemptRecord(
            plan: plan, tenantID: endpoint.tenantID, status: status, transportError: failure,
            latencyMs: elapsed.wholeMilliseconds, schedule: configuration.schedule, now: Date(), using: &generator)
        metrics.attempted(record, latency: elapsed)
        if !record.delivered {
            logger.debug(
                "webhook attempt failed",
                metadata: ["endpoint_id": "\(plan.endpointID.lowercasedString)", "tenant_id": "\(endpoint.tenantID.lowercasedString)", "error": "\(record.error ?? "")"])
        }
        writes.append(record, weight: 1)
    }

    /// Publishes the fleet-wide gauges (pending deliveries, disabled endpoints) and prunes old
    /// attempts; the tracker runs it periodically.
    public func housekeep(prune: Bool) async {
        do {
            let gauges = try await store.gauges()
            metrics.publish(pending: gauges.pending, held: gauges.held, disabledEndpoints: gauges.disabledEndpoints)
            if prune { try await store.prune() }
        } catch {
            logger.warning("webhook housekeeping failed", metadata: ["error": "\(error)"])
        }
    }
}
